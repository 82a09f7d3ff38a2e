#pragma once
// What the OPC UA client commands (`castellan ua`, `bench opcua`, `token request`) share: policy
// names and message security modes as operators type them.

#include <string>

#include "core/result.h"
#include "ua/transport/secure_chunks.h"

namespace castellan::app {

inline constexpr const char* ua_policy_prefix = "http://opcfoundation.org/UA/SecurityPolicy#";

// "Basic256Sha256" or a full policy URI.
inline std::string policy_uri(const std::string& name) {
  return name.find("://") != std::string::npos ? name : ua_policy_prefix + name;
}

inline result<ua::security_mode> parse_mode(const std::string& text) {
  if (text == "None") return ua::security_mode::none;
  if (text == "Sign") return ua::security_mode::sign;
  if (text == "SignAndEncrypt") return ua::security_mode::sign_and_encrypt;
  return make_error(status_code::BadInvalidArgument, "mode '" + text + "' is not None, Sign or SignAndEncrypt");
}

}  // namespace castellan::app
