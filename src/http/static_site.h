#pragma once
// The web console's files (the build of web/), served by the admin HTTPS edge at `/`.
// Loaded into memory once at startup: the bundle is a few hundred KiB, and a request never
// touches the filesystem, so a path in a URL cannot reach outside the bundle.
//
// - Hashed assets (assets/<name>-<hash>.<ext>) are cached for a year ("immutable"); everything
//   else (index.html) is revalidated on every load, so a new build shows at once.
// - Paths without a file extension that name no file are client-side routes: index.html.
// - Every answer carries a strict Content-Security-Policy: scripts, styles and connections from
//   this origin only, no inline script, no framing.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "http/server/https_server.h"

namespace castellan::http {

class static_site {
 public:
  // Reads every regular file under `root` (symlinks are not followed). BadConfigurationError when
  // `root` has no index.html, or holds more than `max_bytes` in all.
  static result<std::shared_ptr<const static_site>> load(const std::filesystem::path& root,
                                                         std::size_t max_bytes = 64 * 1024 * 1024);

  // The answer to GET `path` (the URL path without its query, not yet percent-decoded), or
  // nullopt when `path` belongs to the API (/api/…, /metrics, /healthz, /readyz).
  std::optional<response> serve(std::string_view path) const;

  std::size_t files() const { return files_.size(); }

  // The Content-Security-Policy sent with every file.
  static const char* content_security_policy();
  // "text/javascript; charset=utf-8" for "app.js", …; application/octet-stream when unknown.
  static std::string content_type_for(const std::string& name);

 private:
  struct file {
    std::string content_type;
    std::string body;
    bool immutable = false;
  };
  response reply(const file& f) const;

  std::map<std::string, file, std::less<>> files_;  // "/index.html", "/assets/index-1a2b3c4d.js"
};

}  // namespace castellan::http
