// Hostile HTTP requests against the admin REST API, the whole path a request takes on :8443
// except TLS: raw bytes → Boost.Beast's request parser (with the server's header and body
// limits) → admin_api::handle → router (path decoding, authentication, role check, query and
// JSON body validation) → the route's handler over a real in-memory SQLite store.
//
// The first input byte picks the credentials, so mutations reach the handlers instead of
// stopping at authentication (a fuzzer cannot guess a token):
//   0 the request as it is;  1 a SecurityAdmin bearer token;  2 an Observer bearer token;
//   3 HTTP Basic with the administrator's password (the Argon2id path, minimal cost).
// Every iteration starts from a fresh store, so a crash reproduces from its input alone.
//
// What a client relies on, checked on every answer: an HTTP status in 100..599, and a body
// declared application/json that is valid JSON (errors included).
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sodium.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/admin_api.h"

namespace {

using namespace castellan;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

constexpr char k_admin_password[] = "fuzz-admin-pass-1";

std::string basic_header(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string out(sodium_base64_encoded_len(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return "Basic " + out;
}

struct api_under_test {
  manual_clock clock{sys_time{std::chrono::seconds{1'800'000'000}}};
  events::metrics metrics;
  std::unique_ptr<store::store> store = std::move(store::open_store(":memory:")).value();
  trust::trust_service trust{*store, clock, trust::trust_config{}, "fuzz"};
  users::user_service users{*store, clock, users::users_config{users::password_cost::minimal()}, "fuzz"};
  registry::registry_service registry{*store, clock, registry::registry_config{}, "fuzz"};
  std::string admin_bearer;
  std::string observer_bearer;
  std::unique_ptr<http::admin_api> api;

  api_under_test() {
    const trust::actor setup{"fuzz", "local"};
    if (!users.add_user("ada", k_admin_password, {"SecurityAdmin", "ConfigureAdmin", "AuthorizationServiceAdmin"}, setup)) {
      __builtin_trap();
    }
    if (!users.add_user("olga", "fuzz-observer-1", {"Observer"}, setup)) __builtin_trap();
    auto admin = users.create_token("ada", {"SecurityAdmin", "ConfigureAdmin", "AuthorizationServiceAdmin"}, 1h, "fuzz", setup);
    auto observer = users.create_token("olga", {"Observer"}, 1h, "fuzz", setup);
    if (!admin || !observer) __builtin_trap();
    admin_bearer = "Bearer " + admin->token;
    observer_bearer = "Bearer " + observer->token;
    http::admin_services services{*store, trust, users, &registry, clock, metrics,
                                  [] { return nlohmann::json{{"trust", {{"mode", "trusted-list"}}}}; }, {}, [] { return true; }};
    services.node_name = "fuzz";
    services.connections = [] { return nlohmann::json{{"opcua_channels", 0}}; };
    api = std::make_unique<http::admin_api>(std::move(services));
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  if (sodium_init() < 0) __builtin_trap();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned credentials = data[0] % 4u;
  // The server's parser, fed from memory with the admin edge's header limit; the body limit
  // is lower than the server's 4 MiB to keep iterations fast.
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(256 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data + 1, size - 1), ec);
  if (ec == bhttp::error::need_more && parser.is_header_done() && !parser.chunked() && !parser.content_length()) {
    parser.put_eof(ec);
  }
  if (ec || !parser.is_done()) return 0;  // the server answers 400 and closes; not the API's concern
  http::request req = parser.release();

  api_under_test t;
  switch (credentials) {
    case 1: req.set(bhttp::field::authorization, t.admin_bearer); break;
    case 2: req.set(bhttp::field::authorization, t.observer_bearer); break;
    case 3: req.set(bhttp::field::authorization, basic_header("ada", k_admin_password)); break;
    default: break;
  }
  const http::peer from{"192.0.2.7:40000", "192.0.2.7", {}};
  const http::response out = t.api->handle(req, from);
  if (out.status < 100 || out.status > 599) __builtin_trap();
  if (out.content_type.starts_with("application/json") && !out.body.empty() && !nlohmann::json::accept(out.body)) {
    __builtin_trap();
  }
  return 0;
}
