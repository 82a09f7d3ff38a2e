#pragma once
// What a certificate check is asked and what it answers. The steps and their StatusCodes
// follow OPC UA Part 4 §6.1.3 (Table 100 there lists them in this order).

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "pki/certificate.h"

namespace castellan::trust {

// The four client-certificate validation modes OPC UA server administrators know.
enum class validation_mode {
  accept_any,    // no validation (logged loudly); nothing is added to any list
  system,        // chain must end in the operating system's CA store
  trusted_list,  // the certificate itself must be in the trusted list
  trusted_ca,    // a chain must reach any certificate in the trusted list
};
std::string_view validation_mode_name(validation_mode mode);
result<validation_mode> parse_validation_mode(std::string_view text);

// The limits a security policy puts on certificates (Part 7 security policy profiles).
struct security_policy_limits {
  std::string name;  // short name, e.g. "Basic256Sha256"; "None" checks nothing
  bool check = true;
  int min_rsa_bits = 2048;
  int max_rsa_bits = 4096;
  bool allow_ec = false;
  std::vector<std::string> allowed_digests{"SHA256"};
};
// Short names ("Basic256Sha256") or policy URIs ("http://opcfoundation.org/UA/SecurityPolicy#…").
result<security_policy_limits> security_policy_by_name(std::string_view name);

enum class certificate_use { client, server, any };

struct validation_request {
  // The presented certificate first, then any chain the peer sent with it.
  std::vector<pki::certificate> chain;
  std::optional<std::string> application_uri;  // checked against the SAN URI when set
  std::optional<std::string> host_name;        // checked against SAN DNS/IP when set
  certificate_use use = certificate_use::client;
  security_policy_limits policy;  // policy.check == false: no policy step
};

// Names of the Part 4 steps, as reported in results and audit records.
namespace step {
inline constexpr const char* structure = "structure";
inline constexpr const char* chain = "chain";
inline constexpr const char* signature = "signature";
inline constexpr const char* policy = "security policy";
inline constexpr const char* trust_list = "trust list";
inline constexpr const char* validity = "validity";
inline constexpr const char* host_name = "host name";
inline constexpr const char* uri = "uri";
inline constexpr const char* usage = "usage";
inline constexpr const char* revocation_list = "find revocation list";
inline constexpr const char* revocation = "revocation";
inline constexpr const char* done = "done";
}  // namespace step

struct validation_result {
  status_code status = status_code::Good;
  std::string step = step::done;  // the step that failed, or "done"
  std::string message;            // why, naming the certificate at fault
  std::string thumbprint;         // of the presented certificate ("" when unparsable)
  std::vector<std::string> chain; // thumbprints of the chain built, leaf first
  bool ok() const { return is_good(status); }
};

}  // namespace castellan::trust
