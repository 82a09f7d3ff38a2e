#include "ua/server/trust_list_file.h"

#include <algorithm>

#include "ua/binary/codec.h"

namespace castellan::ua {

bytes encode_trust_list(const trust_list_data_type& lists) { return encode_all(lists); }

result<trust_list_data_type> decode_trust_list(byte_view data) {
  auto lists = decode_all<trust_list_data_type>(data, &standard_types());
  if (!lists) return make_error(status_code::BadDecodingError, "the trust list does not decode: " + lists.err().message);
  const std::uint32_t specified = lists->specified_lists;
  if ((specified & ~trust_list_mask::all) != 0) {
    return make_error(status_code::BadInvalidArgument, "SpecifiedLists " + std::to_string(specified) + " has unknown bits");
  }
  const auto unspecified_but_filled = [&](std::uint32_t bit, const std::vector<bytes>& list) {
    return (specified & bit) == 0 && !list.empty();
  };
  if (unspecified_but_filled(trust_list_mask::trusted_certificates, lists->trusted_certificates) ||
      unspecified_but_filled(trust_list_mask::trusted_crls, lists->trusted_crls) ||
      unspecified_but_filled(trust_list_mask::issuer_certificates, lists->issuer_certificates) ||
      unspecified_but_filled(trust_list_mask::issuer_crls, lists->issuer_crls)) {
    return make_error(status_code::BadInvalidArgument, "a list that SpecifiedLists leaves out is not empty");
  }
  return lists;
}

trust_list_data_type mask_trust_list(trust_list_data_type lists, std::uint32_t masks) {
  masks &= trust_list_mask::all;
  lists.specified_lists = masks;
  if ((masks & trust_list_mask::trusted_certificates) == 0) lists.trusted_certificates.clear();
  if ((masks & trust_list_mask::trusted_crls) == 0) lists.trusted_crls.clear();
  if ((masks & trust_list_mask::issuer_certificates) == 0) lists.issuer_certificates.clear();
  if ((masks & trust_list_mask::issuer_crls) == 0) lists.issuer_crls.clear();
  return lists;
}

trust_list_file::trust_list_file(trust_list_file_limits limits, content_source source)
    : limits_(limits), source_(std::move(source)) {}

result<std::uint32_t> trust_list_file::open(const node_id& session, std::uint8_t mode, std::uint32_t masks) {
  const bool reading = mode == file_open_mode::read;
  const bool writing = mode == (file_open_mode::write | file_open_mode::erase_existing);
  if (!reading && !writing) {
    return make_error(status_code::BadInvalidArgument,
                      "a trust list opens with Read (1) or Write|EraseExisting (6), not " + std::to_string(mode));
  }
  if ((masks & ~trust_list_mask::all) != 0 || (reading && masks == 0)) {
    return make_error(status_code::BadInvalidArgument, "masks " + std::to_string(masks) + " name no trust lists");
  }
  bytes content;
  if (reading) {
    // Encoded outside the lock: the source reads the store.
    auto lists = source_();
    if (!lists) return std::move(lists).err();
    content = encode_trust_list(mask_trust_list(std::move(*lists), masks));
    if (content.size() > limits_.max_size) {
      return make_error(status_code::BadEncodingLimitsExceeded, "the trust list encodes to " + std::to_string(content.size()) +
                                                                    " bytes, over MaxTrustListSize " + std::to_string(limits_.max_size));
    }
  }
  std::lock_guard lock(mutex_);
  const bool writer = std::any_of(files_.begin(), files_.end(), [](const auto& f) { return f.second.writing; });
  if (writing && !files_.empty()) return make_error(status_code::BadNotWritable, "the trust list is open; a writer must be alone");
  if (reading && writer) return make_error(status_code::BadNotReadable, "the trust list is open for writing");
  if (files_.size() >= limits_.max_handles) return make_error(status_code::BadTooManyOperations, "too many open trust list handles");
  const auto mine = std::count_if(files_.begin(), files_.end(), [&](const auto& f) { return f.second.session == session; });
  if (static_cast<std::size_t>(mine) >= limits_.max_handles_per_session) {
    return make_error(status_code::BadTooManyOperations, "this session holds too many trust list handles");
  }
  std::uint32_t handle = next_handle_;
  while (handle == 0 || files_.contains(handle)) ++handle;
  next_handle_ = handle + 1;
  files_.emplace(handle, open_file{session, writing, std::move(content), 0});
  return handle;
}

result<trust_list_file::open_file*> trust_list_file::find_locked(const node_id& session, std::uint32_t handle) {
  const auto it = files_.find(handle);
  // Another session's handle is as unknown to this one as a handle never given out.
  if (it == files_.end() || !(it->second.session == session)) {
    return make_error(status_code::BadInvalidArgument, "no open trust list with handle " + std::to_string(handle));
  }
  return &it->second;
}

result<bytes> trust_list_file::read(const node_id& session, std::uint32_t handle, std::int32_t length) {
  std::lock_guard lock(mutex_);
  auto f = find_locked(session, handle);
  if (!f) return std::move(f).err();
  if ((*f)->writing) return make_error(status_code::BadInvalidState, "the handle was opened for writing");
  if (length < 0) return make_error(status_code::BadInvalidArgument, "negative length");
  const auto& content = (*f)->content;
  const std::uint64_t at = std::min<std::uint64_t>((*f)->position, content.size());
  const std::uint64_t n = std::min<std::uint64_t>({static_cast<std::uint64_t>(length), static_cast<std::uint64_t>(limits_.max_read_length),
                                                   content.size() - at});
  bytes out(content.begin() + static_cast<std::ptrdiff_t>(at), content.begin() + static_cast<std::ptrdiff_t>(at + n));
  (*f)->position = at + n;
  return out;
}

result<void> trust_list_file::write(const node_id& session, std::uint32_t handle, byte_view data) {
  std::lock_guard lock(mutex_);
  auto f = find_locked(session, handle);
  if (!f) return std::move(f).err();
  if (!(*f)->writing) return make_error(status_code::BadInvalidState, "the handle was opened for reading");
  auto& content = (*f)->content;
  const std::uint64_t at = std::min<std::uint64_t>((*f)->position, content.size());
  if (at + data.size() > limits_.max_size) {
    return make_error(status_code::BadEncodingLimitsExceeded,
                      "the trust list would exceed MaxTrustListSize " + std::to_string(limits_.max_size) + " bytes");
  }
  if (at + data.size() > content.size()) content.resize(at + data.size());
  std::copy(data.begin(), data.end(), content.begin() + static_cast<std::ptrdiff_t>(at));
  (*f)->position = at + data.size();
  return {};
}

result<std::uint64_t> trust_list_file::get_position(const node_id& session, std::uint32_t handle) {
  std::lock_guard lock(mutex_);
  auto f = find_locked(session, handle);
  if (!f) return std::move(f).err();
  return (*f)->position;
}

result<void> trust_list_file::set_position(const node_id& session, std::uint32_t handle, std::uint64_t position) {
  std::lock_guard lock(mutex_);
  auto f = find_locked(session, handle);
  if (!f) return std::move(f).err();
  // Past the end a read returns nothing and a write is bounded by max_size; Part 5 allows both.
  (*f)->position = std::min<std::uint64_t>(position, limits_.max_size);
  return {};
}

result<void> trust_list_file::close(const node_id& session, std::uint32_t handle) {
  std::lock_guard lock(mutex_);
  auto f = find_locked(session, handle);
  if (!f) return std::move(f).err();
  files_.erase(handle);
  return {};
}

result<trust_list_data_type> trust_list_file::close_and_update(const node_id& session, std::uint32_t handle) {
  bytes written;
  {
    std::lock_guard lock(mutex_);
    auto f = find_locked(session, handle);
    if (!f) return std::move(f).err();
    if (!(*f)->writing) return make_error(status_code::BadInvalidState, "CloseAndUpdate needs a handle opened for writing");
    written = std::move((*f)->content);
    files_.erase(handle);
  }
  return decode_trust_list(written);
}

void trust_list_file::session_closed(const node_id& session) {
  std::lock_guard lock(mutex_);
  std::erase_if(files_, [&](const auto& f) { return f.second.session == session; });
}

std::uint16_t trust_list_file::open_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::uint16_t>(std::min<std::size_t>(files_.size(), 0xFFFF));
}

bool trust_list_file::writer_open() const {
  std::lock_guard lock(mutex_);
  return std::any_of(files_.begin(), files_.end(), [](const auto& f) { return f.second.writing; });
}

}  // namespace castellan::ua
