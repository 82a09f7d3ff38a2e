#include "http/ustar.h"

#include <cstring>

namespace castellan::http {
namespace {

constexpr std::size_t k_block = 512;

result<void> check_name(std::string_view path) {
  const auto bad = [&](const char* why) {
    return make_error(status_code::BadInvalidArgument, "archive name '" + std::string(path.substr(0, 120)) + "': " + why);
  };
  if (path.empty() || path.front() == '/') return bad("must be relative");
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto seg = path.substr(start, (slash == std::string_view::npos ? path.size() : slash) - start);
    if (seg.empty() && slash != std::string_view::npos) return bad("empty segment");
    if (seg == "." || seg == "..") return bad("'.' and '..' are not allowed");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f || c == '\\') return bad("control characters and backslashes are not allowed");
  }
  return {};
}

// An octal number right-aligned in a NUL-terminated field.
void octal(char* field, std::size_t width, std::uint64_t value) {
  std::memset(field, '0', width - 1);
  field[width - 1] = '\0';
  for (std::size_t i = width - 1; i-- > 0 && value > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
}

}  // namespace

void ustar_writer::raw_header(std::string_view name, std::string_view prefix, char type, std::size_t size, unsigned mode) {
  char h[k_block] = {};
  std::memcpy(h, name.data(), name.size());                 // name[100]
  octal(h + 100, 8, mode);                                   // mode
  octal(h + 108, 8, 0);                                      // uid
  octal(h + 116, 8, 0);                                      // gid
  octal(h + 124, 12, size);                                  // size
  octal(h + 136, 12, static_cast<std::uint64_t>(mtime_.time_since_epoch().count()));  // mtime
  std::memset(h + 148, ' ', 8);                              // checksum, as spaces while summing
  h[156] = type;                                             // typeflag
  std::memcpy(h + 257, "ustar", 6);                          // magic "ustar\0"
  std::memcpy(h + 263, "00", 2);                             // version
  std::memcpy(h + 345, prefix.data(), prefix.size());       // prefix[155]
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  octal(h + 148, 7, sum);                                    // six digits, NUL, then the space left
  out_.append(h, k_block);
}

void ustar_writer::pad() { out_.append((k_block - out_.size() % k_block) % k_block, '\0'); }

result<void> ustar_writer::header(std::string_view path, char type, std::size_t size, unsigned mode) {
  if (auto r = check_name(path); !r) return r;
  if (path.size() <= 100) {
    raw_header(path, "", type, size, mode);
    return {};
  }
  // Split at a '/' so the directory part fits prefix[155] and the rest name[100].
  for (auto slash = path.rfind('/'); slash != std::string_view::npos && slash > 0; slash = path.rfind('/', slash - 1)) {
    if (slash <= 155 && path.size() - slash - 1 <= 100 && path.size() - slash - 1 > 0) {
      raw_header(path.substr(slash + 1), path.substr(0, slash), type, size, mode);
      return {};
    }
    if (path.size() - slash - 1 > 100) break;
  }
  // pax extended header: a record "<length> path=<path>\n" whose length counts itself.
  const std::string body = "path=" + std::string(path) + "\n";
  std::size_t length = body.size() + 2;
  while (std::to_string(length).size() + 1 + body.size() != length) ++length;
  const std::string record = std::to_string(length) + " " + body;
  raw_header("PaxHeader", "", 'x', record.size(), 0644);
  out_ += record;
  pad();
  raw_header(path.substr(path.size() - std::min<std::size_t>(path.size(), 99)), "", type, size, mode);
  return {};
}

result<void> ustar_writer::add_directory(std::string_view path) {
  std::string p(path);
  if (!p.empty() && p.back() != '/') p.push_back('/');
  if (auto r = check_name(std::string_view(p).substr(0, p.size() - 1)); !r) return r;
  return header(p.size() <= 100 ? std::string_view(p) : std::string_view(p).substr(0, p.size() - 1), '5', 0, 0755);
}

result<void> ustar_writer::add_file(std::string_view path, std::string_view content, unsigned mode) {
  if (auto r = header(path, '0', content.size(), mode); !r) return r;
  out_ += content;
  pad();
  return {};
}

std::string ustar_writer::finish() {
  out_.append(2 * k_block, '\0');
  return std::move(out_);
}

}  // namespace castellan::http
