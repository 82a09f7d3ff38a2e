#pragma once
// Reading certificates and CRLs from PEM (single or bundle) and DER. All-or-nothing: one bad
// entry fails the whole input, and the error names the source and the entry.

#include <string>
#include <vector>

#include "core/result.h"
#include "pki/certificate.h"
#include "pki/crl.h"

namespace castellan::pki {

// Most entries one input may hold; a bundle beyond this is refused rather than parsed.
inline constexpr std::size_t k_max_bundle_entries = 4096;

// `source` names the input in errors (a file name, "request body", …).
result<std::vector<certificate>> parse_certificates(byte_view data, const std::string& source);
result<std::vector<crl>> parse_crls(byte_view data, const std::string& source);
bool looks_like_pem(byte_view data);

// PEM for a list (one block after another).
std::string to_pem_bundle(const std::vector<certificate>& certs);

}  // namespace castellan::pki
