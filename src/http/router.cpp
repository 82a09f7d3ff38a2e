#include "http/router.h"

#include <algorithm>

#include "http/status_map.h"

namespace castellan::http {
namespace {

constexpr std::size_t k_max_json_depth = 32;

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// Matches decoded request segments against a pattern; fills path parameters.
bool matches(const std::string& pattern, const std::vector<std::string>& segments, std::map<std::string, std::string>& params) {
  const auto parts = split_path(pattern);
  if (parts.size() != segments.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto p = parts[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (segments[i].empty()) return false;
      found[std::string(p.substr(1, p.size() - 2))] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

bool type_matches(const nlohmann::json& v, const std::string& type) {
  if (type == "any") return true;  // the handler checks it (a setting's value)
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") {
    return v.is_array() && std::all_of(v.begin(), v.end(), [](const nlohmann::json& item) { return item.is_string(); });
  }
  return false;
}

std::string type_words(const std::string& type) {
  if (type == "array") return "an array of strings";
  if (type == "integer") return "an integer";
  if (type == "object") return "an object";
  return "a " + type;
}

// Nesting depth of a JSON text, strings skipped: refused before the parser sees it.
std::size_t json_depth(const std::string& text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return deepest;
}

std::string list_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? std::string("none") : out;
}

response unauthorized(const error& e) {
  auto r = error_response(e.code == status_code::BadTooManyOperations ? 429 : 401, e.code, e.message);
  if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"castellan\", Basic realm=\"castellan\"");
  return r;
}

}  // namespace

std::string call::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::string call::query_or(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

trust::actor call::actor() const { return trust::actor{who ? who->actor_name() : std::string("anonymous"), from.ip}; }

std::string dump_json(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

response json_reply(const nlohmann::json& j, unsigned status) { return {status, "application/json", dump_json(j), {}}; }

result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%') {
      const auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (i + 2 >= text.size()) return make_error(status_code::BadInvalidArgument, "bad %-escape in the URL");
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return make_error(status_code::BadInvalidArgument, "bad %-escape in the URL");
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return make_error(status_code::BadInvalidArgument, "NUL in the URL");
      out.push_back(decoded);
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

result<nlohmann::json> parse_json_body(const std::string& body, const std::vector<field>& fields) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return make_error(status_code::BadDecodingError, "a JSON object body is required");
  }
  if (json_depth(body) > k_max_json_depth) {
    return make_error(status_code::BadDecodingError, "JSON nested deeper than " + std::to_string(k_max_json_depth) + " levels");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(status_code::BadDecodingError, std::string("malformed JSON: ") + e.what());
  }
  if (!j.is_object()) return make_error(status_code::BadTypeMismatch, "the body must be a JSON object");
  std::vector<std::string> known;
  for (const auto& f : fields) known.push_back(f.name);
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& value = it.value();
    auto f = std::find_if(fields.begin(), fields.end(), [&key](const field& x) { return x.name == key; });
    if (f == fields.end()) {
      return make_error(status_code::BadInvalidArgument, "unknown field '" + key.substr(0, 64) + "' (known: " + list_names(known) + ")");
    }
    if (!type_matches(value, f->type)) {
      return make_error(status_code::BadTypeMismatch, "field '" + key + "' must be " + type_words(f->type));
    }
  }
  for (const auto& f : fields) {
    if (f.required && !j.contains(f.name)) return make_error(status_code::BadInvalidArgument, "missing field '" + f.name + "'");
  }
  return j;
}

void router::add(route r) { routes_.push_back(std::move(r)); }

response router::dispatch(const request& req, const peer& from, const authenticator& authenticate, std::string& matched) const {
  matched.clear();
  const std::string_view target = req.target();
  if (target.empty() || target.front() != '/') {
    return error_response(400, status_code::BadInvalidArgument, "the request target must be a path");
  }
  const auto qmark = target.find('?');
  const auto raw_path = target.substr(0, qmark);
  std::vector<std::string> segments;
  for (auto s : split_path(raw_path)) {
    auto decoded = percent_decode(s, false);
    if (!decoded) return error_reply(decoded.err());
    // No normalisation: a path with dot segments or an encoded slash names nothing here.
    if (*decoded == "." || *decoded == ".." || decoded->find('/') != std::string::npos) {
      return error_response(400, status_code::BadInvalidArgument, "path segments '.', '..' and encoded '/' are not accepted");
    }
    segments.push_back(std::move(decoded).value());
  }

  const route* chosen = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> p;
    if (!matches(r.pattern, segments, p)) continue;
    allowed.push_back(r.method);
    if (r.method == req.method_string() && chosen == nullptr) {
      chosen = &r;
      params = std::move(p);
    }
  }
  if (allowed.empty()) return error_response(404, status_code::BadNotFound, "no such route: " + std::string(raw_path.substr(0, 200)));
  if (chosen == nullptr) {
    auto r = error_response(405, status_code::BadServiceUnsupported,
                            std::string(req.method_string().substr(0, 16)) + " is not served here; allowed: " + list_names(allowed));
    r.headers.emplace_back("Allow", list_names(allowed));
    return r;
  }
  const route& r = *chosen;
  matched = r.method + " " + r.pattern;
  call c{req, from, std::move(params), {}, nlohmann::json::object(), std::nullopt};

  if (r.role != users::role::anonymous) {
    auto header = req.find(boost::beast::http::field::authorization);
    if (header == req.end()) {
      return unauthorized(make_error(status_code::BadIdentityTokenInvalid,
                                     "authentication required: 'Authorization: Bearer <API token>' or HTTP Basic"));
    }
    auto who = authenticate(std::string(header->value()), from);
    if (!who) {
      const auto code = who.code();
      const bool credentials = code == status_code::BadUserAccessDenied || code == status_code::BadIdentityTokenInvalid ||
                               code == status_code::BadIdentityTokenRejected || code == status_code::BadTooManyOperations;
      return credentials ? unauthorized(who.err()) : error_reply(who.err());
    }
    if (!who->has(r.role)) {
      return error_response(403, status_code::BadUserAccessDenied,
                            matched + " needs the role " + std::string(users::role_name(r.role)) + "; " + who->actor_name() +
                                " holds " + list_names(who->roles));
    }
    c.who = std::move(who).value();
  }

  if (qmark != std::string_view::npos) {
    auto rest = target.substr(qmark + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      auto name = percent_decode(pair.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!name) return error_reply(name.err());
      if (!value) return error_reply(value.err());
      const bool declared = std::any_of(r.query.begin(), r.query.end(), [&](const query_param& q) { return q.name == *name; });
      if (!declared) {
        std::vector<std::string> known;
        for (const auto& q : r.query) known.push_back(q.name);
        return error_response(400, status_code::BadInvalidArgument,
                              "unknown query parameter '" + name->substr(0, 64) + "' (known: " + list_names(known) + ")");
      }
      if (c.query.contains(*name)) {
        return error_response(400, status_code::BadInvalidArgument, "query parameter '" + *name + "' given twice");
      }
      c.query[*name] = std::move(value).value();
    }
  }

  if (r.body == body_kind::json) {
    auto body = parse_json_body(req.body(), r.fields);
    if (!body) return error_reply(body.err());
    c.json = std::move(body).value();
  } else if (r.body == body_kind::certificates && req.body().empty()) {
    return error_response(400, status_code::BadInvalidArgument, "the body must hold PEM or DER data");
  }

  auto out = r.handler(c);
  if (!out) return error_reply(out.err());
  return std::move(out).value();
}

}  // namespace castellan::http
