#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

namespace castellan {
namespace fs = std::filesystem;

result<bytes> read_file(const fs::path& path, std::uintmax_t max_size) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return make_error(status_code::BadNotFound, path.string() + ": no such file");
  }
  if (!fs::is_regular_file(status)) {
    return make_error(status_code::BadInvalidArgument, path.string() + ": not a regular file");
  }
  const auto size = fs::file_size(path, ec);
  if (ec) {
    return make_error(status_code::BadResourceUnavailable, path.string() + ": " + ec.message());
  }
  if (size > max_size) {
    return make_error(status_code::BadRequestTooLarge,
                      path.string() + ": file is " + std::to_string(size) + " bytes, more than the limit of " +
                          std::to_string(max_size));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(status_code::BadResourceUnavailable, path.string() + ": cannot open: " + std::strerror(errno));
  }
  bytes data(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size))) {
    return make_error(status_code::BadResourceUnavailable, path.string() + ": read failed");
  }
  return data;
}

result<void> write_file_atomic(const fs::path& path, std::string_view content, unsigned mode) {
  std::random_device rd;
  const fs::path tmp = path.string() + ".tmp-" + std::to_string(rd());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) {
    return make_error(status_code::BadResourceUnavailable, tmp.string() + ": cannot create: " + std::strerror(errno));
  }
  // The umask may have narrowed the mode; set it exactly (never wider than asked).
  ::fchmod(fd, static_cast<mode_t>(mode));
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(status_code::BadResourceUnavailable, path.string() + ": write failed: " + why);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(status_code::BadResourceUnavailable, path.string() + ": sync failed: " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(status_code::BadResourceUnavailable, path.string() + ": rename failed: " + why);
  }
  return {};
}

result<void> ensure_directory(const fs::path& path, unsigned mode) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return {};
  }
  fs::create_directories(path, ec);
  if (ec) {
    return make_error(status_code::BadResourceUnavailable, path.string() + ": cannot create directory: " + ec.message());
  }
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
  return {};
}

}  // namespace castellan
