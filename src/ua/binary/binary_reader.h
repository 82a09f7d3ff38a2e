#pragma once
// A bounded reader over UA binary bytes (Part 6 §5.2). It cannot run past its end: a read that
// would fails the reader, which stays failed (sticky) and returns zero values from then on, so
// decoders read field after field and check ok() once. Lengths are checked against what is
// left before anything is allocated, and nesting depth is capped.

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "core/status_code.h"

namespace castellan::ua {

static_assert(std::endian::native == std::endian::little, "the UA binary codec assumes a little-endian host");

class type_table;

struct decode_limits {
  std::uint32_t max_string_length = 1u << 24;   // bytes, String / ByteString / XmlElement
  std::uint32_t max_array_length = 1u << 20;    // elements
  std::uint32_t max_depth = 64;                 // nested Variant / ExtensionObject / DiagnosticInfo
};

class binary_reader {
 public:
  explicit binary_reader(byte_view data, const type_table* types = nullptr, decode_limits limits = {})
      : data_(data), types_(types), limits_(limits) {}
  // A reader for a body nested inside `outer` (an ExtensionObject's): same types and limits,
  // and it starts at the outer reader's depth so nesting is counted across bodies.
  binary_reader(byte_view data, const binary_reader& outer)
      : data_(data), types_(outer.types_), limits_(outer.limits_), depth_(outer.depth_) {}

  bool ok() const noexcept { return error_ == status_code::Good; }
  status_code error() const noexcept { return error_; }
  const std::string& error_detail() const noexcept { return detail_; }
  // The first failure wins; later ones are consequences of it.
  void fail(status_code code, std::string detail);

  std::size_t position() const noexcept { return position_; }
  std::size_t remaining() const noexcept { return data_.size() - position_; }
  bool at_end() const noexcept { return position_ == data_.size(); }

  // The next n bytes, or an empty span (and a failed reader) when fewer are left.
  byte_view take(std::size_t n);
  template <class T>
  T read_le() {
    T value{};
    if (auto b = take(sizeof(T)); b.size() == sizeof(T)) std::memcpy(&value, b.data(), sizeof(T));
    return value;
  }

  const type_table* types() const noexcept { return types_; }
  const decode_limits& limits() const noexcept { return limits_; }

  // Counts nesting; fails the reader when too deep. Use through depth_guard.
  bool enter();
  void leave() noexcept { --depth_; }

  // Converts the state into a result for callers outside the codec.
  result<void> status() const;

 private:
  byte_view data_;
  std::size_t position_ = 0;
  const type_table* types_;
  decode_limits limits_;
  std::uint32_t depth_ = 0;
  status_code error_ = status_code::Good;
  std::string detail_;
};

class depth_guard {
 public:
  explicit depth_guard(binary_reader& r) : r_(r), entered_(r.enter()) {}
  ~depth_guard() {
    if (entered_) r_.leave();
  }
  depth_guard(const depth_guard&) = delete;
  depth_guard& operator=(const depth_guard&) = delete;
  explicit operator bool() const noexcept { return entered_; }

 private:
  binary_reader& r_;
  bool entered_;
};

class binary_writer {
 public:
  explicit binary_writer(bytes& out) : out_(out) {}
  void write_raw(const void* data, std::size_t n) {
    if (n == 0) return;
    const auto at = out_.size();
    out_.resize(at + n);
    std::memcpy(out_.data() + at, data, n);
  }
  template <class T>
  void write_le(T value) {
    write_raw(&value, sizeof(T));
  }
  std::size_t size() const noexcept { return out_.size(); }
  void patch_u32(std::size_t at, std::uint32_t value) { std::memcpy(out_.data() + at, &value, sizeof value); }
  bytes& buffer() noexcept { return out_; }

 private:
  bytes& out_;
};

}  // namespace castellan::ua
