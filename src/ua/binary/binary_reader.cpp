#include "ua/binary/binary_reader.h"

namespace castellan::ua {

void binary_reader::fail(status_code code, std::string detail) {
  if (!ok()) return;
  error_ = code;
  detail_ = std::move(detail);
  position_ = data_.size();  // nothing more is read once the input is known to be wrong
}

byte_view binary_reader::take(std::size_t n) {
  if (!ok()) return {};
  if (n > remaining()) {
    fail(status_code::BadDecodingError, "message ends " + std::to_string(n - remaining()) + " bytes early at offset " +
                                            std::to_string(position_));
    return {};
  }
  auto out = data_.subspan(position_, n);
  position_ += n;
  return out;
}

bool binary_reader::enter() {
  if (!ok()) return false;
  if (depth_ >= limits_.max_depth) {
    fail(status_code::BadEncodingLimitsExceeded, "nesting deeper than " + std::to_string(limits_.max_depth));
    return false;
  }
  ++depth_;
  return true;
}

result<void> binary_reader::status() const {
  if (ok()) return {};
  return make_error(error_, detail_);
}

}  // namespace castellan::ua
