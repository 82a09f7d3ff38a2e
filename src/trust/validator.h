#pragma once
// Certificate validators, one per validation mode, behind one interface. Each walks the
// OPC UA Part 4 §6.1.3 steps in order and answers the StatusCode of the first step that fails.

#include <memory>

#include "core/clock.h"
#include "trust/trust_snapshot.h"
#include "trust/validation.h"

namespace castellan::trust {

struct validator_options {
  // Part 4 makes a missing CRL for a CA an error (BadCertificateRevocationUnknown). Many
  // plants run CAs without CRLs, so this is a setting (trust.require_crl); off by default.
  bool require_crl = false;
  std::size_t max_chain_length = 8;
};

class certificate_validator {
 public:
  virtual ~certificate_validator() = default;
  virtual validation_mode mode() const = 0;
  virtual validation_result validate(const validation_request& request, const trust_snapshot& lists,
                                     sys_time now) const = 0;
};

// `system_anchors` is needed for validation_mode::system only (may be null otherwise).
std::unique_ptr<certificate_validator> make_validator(validation_mode mode, validator_options options,
                                                      std::shared_ptr<const anchor_set> system_anchors);

}  // namespace castellan::trust
