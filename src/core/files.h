#pragma once
// File reading and atomic writing. Secrets are written with mode 0600 from the first byte
// (the file is created with that mode; it is never widened afterwards).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace castellan {

inline constexpr std::uintmax_t k_default_max_file_size = 16u * 1024u * 1024u;

// Reads a whole regular file, refusing anything larger than max_size.
result<bytes> read_file(const std::filesystem::path& path, std::uintmax_t max_size = k_default_max_file_size);

// Writes to a temporary file beside `path`, fsyncs, then renames over `path`, so a reader
// sees either the old or the new content. `mode` applies from creation (e.g. 0600 for keys).
result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content, unsigned mode = 0644);

// Creates the directory (and parents) with the given mode when missing.
result<void> ensure_directory(const std::filesystem::path& path, unsigned mode = 0755);

}  // namespace castellan
