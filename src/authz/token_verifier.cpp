#include "authz/token_verifier.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "authz/jws.h"

namespace castellan::authz {

namespace {

using json = nlohmann::json;

error rejected(std::string why) { return make_error(status_code::BadIdentityTokenRejected, "access token: " + why); }
error invalid(std::string why) { return make_error(status_code::BadIdentityTokenInvalid, "access token: " + why); }

// RFC 7519 NumericDate: seconds since the epoch; fractions are allowed and dropped.
std::optional<sys_time> numeric_date(const json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!(v >= 0 && v < 1e11)) return std::nullopt;
  return sys_time(std::chrono::seconds(static_cast<std::int64_t>(v)));
}

std::string string_claim(const json& claims, const char* name) {
  const auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// A claim that is a string or an array of strings (aud, roles); nullopt when it is neither.
std::optional<std::vector<std::string>> strings_claim(const json& claims, const char* name) {
  std::vector<std::string> out;
  const auto it = claims.find(name);
  if (it == claims.end()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return out;
  }
  if (!it->is_array()) return std::nullopt;
  for (const auto& v : *it) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

result<token_verifier> token_verifier::create(std::vector<trusted_issuer> issuers, token_verifier_options options) {
  if (issuers.empty()) return make_error(status_code::BadConfigurationError, "token verifier: no trusted issuer");
  if (options.audience.empty()) return make_error(status_code::BadConfigurationError, "token verifier: no audience");
  for (const auto& i : issuers) {
    if (i.service_uri.empty()) return make_error(status_code::BadConfigurationError, "token verifier: an issuer has no ServiceUri");
    EVP_PKEY* key = X509_get0_pubkey(i.certificate.native());
    const int id = key ? EVP_PKEY_get_base_id(key) : 0;
    if (id != EVP_PKEY_EC && !(id == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) >= 2048)) {
      return make_error(status_code::BadConfigurationError,
                        "token verifier: the certificate of " + i.service_uri + " has no ECDSA or RSA >= 2048 key");
    }
  }
  return token_verifier(std::move(issuers), std::move(options));
}

result<access_token_claims> token_verifier::verify(std::string_view token, sys_time now) const {
  if (token.size() > max_token_size) return invalid("too long");
  // The issuer names the key: read "iss" before the signature is checked, trust nothing else.
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return invalid("not a JWT");
  const auto unverified = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!unverified) return invalid("payload is not base64url");
  const auto peek = json::parse(unverified->begin(), unverified->end(), nullptr, false);
  if (!peek.is_object()) return invalid("payload is not a JSON object");
  const auto iss = string_claim(peek, "iss");
  const trusted_issuer* issuer = nullptr;
  for (const auto& i : issuers_) {
    if (i.service_uri == iss) issuer = &i;
  }
  if (!issuer) return rejected("issuer '" + iss + "' is not trusted");

  auto parts = jws_verify(token, X509_get0_pubkey(issuer->certificate.native()),
                          {jws_algorithm::es256, jws_algorithm::rs256, jws_algorithm::ps256});
  if (!parts) return parts.err();
  const auto claims = json::parse(parts->payload_json, nullptr, false);
  if (!claims.is_object()) return invalid("payload is not a JSON object");

  access_token_claims out;
  out.issuer = iss;
  out.subject = string_claim(claims, "sub");
  out.token_id = string_claim(claims, "jti");
  out.client_application_uri = string_claim(claims, "client_id");
  out.client_thumbprint = string_claim(claims, "ua:client_thumbprint");
  if (const auto cnf = claims.find("cnf"); cnf != claims.end()) {
    if (!cnf->is_object()) return invalid("cnf is not an object");
    out.certificate_binding = string_claim(*cnf, "x5t#S256");
  }
  auto audience = strings_claim(claims, "aud");
  auto roles = strings_claim(claims, "roles");
  auto groups = strings_claim(claims, "groups");
  if (!audience || !roles || !groups) return invalid("aud, roles or groups is not a string array");
  out.groups = std::move(*groups);
  out.audience = std::move(*audience);
  out.roles = std::move(*roles);
  const auto exp = numeric_date(claims, "exp");
  const auto iat = numeric_date(claims, "iat");
  if (!exp || !iat) return invalid("exp or iat missing");
  out.expires_at = *exp;
  out.issued_at = *iat;
  out.not_before = numeric_date(claims, "nbf").value_or(*iat);

  if (std::find(out.audience.begin(), out.audience.end(), options_.audience) == out.audience.end()) {
    return rejected("audience is not " + options_.audience);
  }
  if (now >= out.expires_at + options_.clock_skew) return rejected("expired at " + format_time(out.expires_at));
  if (now + options_.clock_skew < out.not_before) return rejected("not valid before " + format_time(out.not_before));
  if (now + options_.clock_skew < out.issued_at) return rejected("issued in the future");
  if (out.expires_at - out.issued_at > options_.max_lifetime) return rejected("lifetime longer than the verifier accepts");
  return out;
}

bool bound_to(const access_token_claims& claims, const pki::certificate& presented) {
  if (claims.certificate_binding.empty()) return false;
  bytes digest;
  if (!from_hex(presented.sha256_hex(), digest)) return false;
  const std::string expected = base64url_encode(digest);
  return expected.size() == claims.certificate_binding.size() &&
         CRYPTO_memcmp(expected.data(), claims.certificate_binding.data(), expected.size()) == 0;
}

}  // namespace castellan::authz
