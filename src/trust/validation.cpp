#include "trust/validation.h"

namespace castellan::trust {

std::string_view validation_mode_name(validation_mode mode) {
  switch (mode) {
    case validation_mode::accept_any: return "accept-any";
    case validation_mode::system: return "system";
    case validation_mode::trusted_list: return "trusted-list";
    case validation_mode::trusted_ca: return "trusted-ca";
  }
  return "unknown";
}

result<validation_mode> parse_validation_mode(std::string_view text) {
  if (text == "accept-any") return validation_mode::accept_any;
  if (text == "system") return validation_mode::system;
  if (text == "trusted-list") return validation_mode::trusted_list;
  if (text == "trusted-ca") return validation_mode::trusted_ca;
  return make_error(status_code::BadInvalidArgument, "unknown validation mode '" + std::string(text) +
                                                         "' (accept-any, system, trusted-list, trusted-ca)");
}

result<security_policy_limits> security_policy_by_name(std::string_view name) {
  static constexpr std::string_view k_prefix = "http://opcfoundation.org/UA/SecurityPolicy#";
  if (name.substr(0, k_prefix.size()) == k_prefix) {
    name.remove_prefix(k_prefix.size());
  }
  security_policy_limits p;
  p.name = std::string(name);
  if (name == "None" || name == "none") {
    p.name = "None";
    p.check = false;
    return p;
  }
  if (name == "Basic256Sha256" || name == "Aes128_Sha256_RsaOaep" || name == "Aes256_Sha256_RsaPss") {
    return p;  // RSA 2048–4096, SHA-256 signatures
  }
  if (name == "Basic128Rsa15" || name == "Basic256") {
    p.min_rsa_bits = 1024;
    p.max_rsa_bits = 2048;
    p.allowed_digests = {"SHA1", "SHA256"};
    return p;
  }
  return make_error(status_code::BadSecurityPolicyRejected,
                    "unknown security policy '" + std::string(name) +
                        "' (None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, Basic128Rsa15, Basic256)");
}

}  // namespace castellan::trust
