#pragma once
// A minimal tar (POSIX ustar) writer for the trust-list export. Written by hand on purpose:
// castellan needs regular files and directories in memory, a few dozen lines — not a
// dependency. Names longer than ustar's name/prefix fields get a pax "path" record.
// Names are checked: relative, no "." or ".." segments, no backslashes or control characters,
// so an archive castellan writes can never reach outside the folder it is extracted into.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace castellan::http {

class ustar_writer {
 public:
  explicit ustar_writer(sys_time mtime) : mtime_(mtime) {}
  result<void> add_directory(std::string_view path);  // "pki/trusted/certs" (a '/' is appended)
  result<void> add_file(std::string_view path, std::string_view content, unsigned mode = 0644);
  // The archive: every entry, then the two zero blocks that end it.
  std::string finish();

 private:
  result<void> header(std::string_view path, char type, std::size_t size, unsigned mode);
  void raw_header(std::string_view name, std::string_view prefix, char type, std::size_t size, unsigned mode);
  void pad();

  sys_time mtime_;
  std::string out_;
};

}  // namespace castellan::http
