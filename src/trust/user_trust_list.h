#pragma once
// The user trust list (OPC UA Part 12's DefaultUserTokenGroup): the certificates X509 identity
// tokens are checked against, kept apart from the application trust lists so that trusting an
// application never lets its certificate log in as a user, and the other way round.
//
// It lives as an OPC UA PKI folder (<data>/pki/users/{trusted,issuers}/{certs,crl}) that other
// stacks and administrators already know how to fill. A trusted certificate, or one whose chain
// reaches a trusted CA, is accepted (Part 4 §6.1.3 steps, trusted-ca mode); the folder is read
// again when it changes (checked at most once a second). Thread-safe.

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "trust/trust_snapshot.h"
#include "trust/validation.h"
#include "trust/validator.h"

namespace castellan::trust {

class user_trust_list {
 public:
  user_trust_list(std::filesystem::path folder, const clock& clk);

  // Creates the folder layout when absent (mode 0700 directories).
  result<void> ensure_layout() const;
  // Part 4 validation of a user certificate (and the chain the client sent with it).
  validation_result validate(const std::vector<pki::certificate>& chain);
  const std::filesystem::path& folder() const noexcept { return folder_; }
  std::size_t trusted_count();

 private:
  std::shared_ptr<const trust_snapshot> current();
  std::filesystem::file_time_type newest_change() const;

  std::filesystem::path folder_;
  const clock& clock_;
  std::unique_ptr<certificate_validator> validator_;
  std::mutex mutex_;
  std::shared_ptr<const trust_snapshot> snapshot_;
  std::filesystem::file_time_type loaded_change_{};
  std::chrono::steady_clock::time_point checked_{};
};

}  // namespace castellan::trust
