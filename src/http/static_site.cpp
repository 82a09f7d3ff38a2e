#include "http/static_site.h"

#include <fstream>
#include <iterator>

namespace castellan::http {
namespace {

namespace fs = std::filesystem;

bool api_path(std::string_view path) {
  const auto under = [&](std::string_view prefix) {
    return path == prefix || (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix && path[prefix.size()] == '/');
  };
  return under("/api") || under("/metrics") || under("/healthz") || under("/readyz") || under("/device");
}

// The last path segment has a dot: the client asked for a file, not a client-side route.
bool names_a_file(std::string_view path) {
  const auto slash = path.rfind('/');
  const auto last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return last.find('.') != std::string_view::npos;
}

// "/a/../b", "/./x", "/%2e%2E/": dot segments, plain or percent-encoded, name nothing here.
bool has_dot_segment(std::string_view path) {
  std::size_t start = 0;
  while (start < path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string seg;
    for (std::size_t i = start; i < end; ++i) {
      if (path[i] == '%' && i + 2 < end && path[i + 1] == '2' && (path[i + 2] == 'e' || path[i + 2] == 'E')) {
        seg.push_back('.');
        i += 2;
      } else {
        seg.push_back(path[i]);
      }
    }
    if (seg == "." || seg == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

const char* static_site::content_security_policy() {
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
         "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";
}

std::string static_site::content_type_for(const std::string& name) {
  static const std::map<std::string, std::string, std::less<>> types{
      {".html", "text/html; charset=utf-8"},       {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},  {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},               {".map", "application/json"},
      {".svg", "image/svg+xml"},                   {".png", "image/png"},
      {".ico", "image/x-icon"},                    {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},       {".webmanifest", "application/manifest+json"}};
  const auto dot = name.rfind('.');
  if (dot != std::string::npos) {
    if (auto it = types.find(std::string_view(name).substr(dot)); it != types.end()) return it->second;
  }
  return "application/octet-stream";
}

result<std::shared_ptr<const static_site>> static_site::load(const fs::path& root, std::size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(root / "index.html", ec)) {
    return make_error(status_code::BadConfigurationError, "web console: " + (root / "index.html").string() + " does not exist");
  }
  auto site = std::make_shared<static_site>();
  std::size_t total = 0;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return make_error(status_code::BadConfigurationError, "web console: " + root.string() + ": " + ec.message());
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return make_error(status_code::BadConfigurationError, "web console: " + root.string() + ": " + ec.message());
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    const auto relative = fs::relative(it->path(), root, ec).generic_string();
    if (ec || relative.empty() || relative.front() == '.') continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      return make_error(status_code::BadConfigurationError, "web console: cannot read " + it->path().string());
    }
    total += body.size();
    if (total > max_bytes) {
      return make_error(status_code::BadConfigurationError,
                        "web console: " + root.string() + " holds more than " + std::to_string(max_bytes) + " bytes");
    }
    const std::string url = "/" + relative;
    // The build writes only content-hashed names into assets/; anything else may change in place.
    const bool immutable = url.rfind("/assets/", 0) == 0;
    site->files_[url] = file{content_type_for(relative), std::move(body), immutable};
  }
  return std::shared_ptr<const static_site>(std::move(site));
}

response static_site::reply(const file& f) const {
  response r{200, f.content_type, f.body, {}};
  r.headers.emplace_back("Cache-Control", f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("Content-Security-Policy", content_security_policy());
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  return r;
}

std::optional<response> static_site::serve(std::string_view path) const {
  if (path.empty() || path.front() != '/' || api_path(path)) return std::nullopt;
  if (path == "/") path = "/index.html";
  if (auto it = files_.find(path); it != files_.end()) return reply(it->second);
  if (names_a_file(path) || has_dot_segment(path)) {
    auto r = error_response(404, status_code::BadNotFound, "no such file in the web console");
    r.headers.emplace_back("Content-Security-Policy", content_security_policy());
    return r;
  }
  // A client-side route (/devices, /certificates/rejected, …): the app routes it.
  return reply(files_.at("/index.html"));
}

}  // namespace castellan::http
