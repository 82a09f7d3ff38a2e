#pragma once
// The device registry: one device, one certificate. CA certificates are registered first;
// device certificates are registered by hand or automatically on first connect; every edge
// asks admit() on each connection and honours the status it finds there.

#include <functional>
#include <mutex>
#include <shared_mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "pki/certificate.h"
#include "registry/device_cache.h"
#include "registry/rate_limiter.h"
#include "registry/registration_batcher.h"
#include "store/store.h"
#include "trust/trust_service.h"

namespace castellan::events {
class audit_writer;
}

namespace castellan::registry {

enum class registration_mode { automatic, manual };
std::string_view registration_mode_name(registration_mode m);
result<registration_mode> parse_registration_mode(std::string_view text);

struct registry_config {
  bool enabled = true;  // one-device-one-certificate
  registration_mode mode = registration_mode::automatic;
  std::size_t signups_per_second = 15;  // 0: no limit
};

struct ca_options {
  bool active = true;
  bool auto_registration = true;
  bool require_approval = false;
  // Proof of possession: a certificate signed by the CA's key whose CN is a registration code
  // castellan handed out (registration_code()). Required when `require_verification`.
  std::optional<pki::certificate> verification;
  bool require_verification = false;
};

struct device_options {
  std::string ca_id;      // "" : castellan finds the issuing CA among the registered ones
  std::string client_id;  // "" : the CN stands in
  bool activate = true;
};

// What an edge knows about a connecting device.
struct connection {
  std::vector<pki::certificate> chain;  // the device certificate first
  std::string client_id;                // as presented ("" when none)
  std::string remote_address;
  std::string edge;  // "mqtt", "mtls", "opc.tcp"
};

struct admission {
  status_code status = status_code::Good;
  std::string message;
  std::string device_id;
  std::string client_id;  // the resolved client ID
  std::optional<store::device_status> device_status;
  bool registered_now = false;  // automatic registration happened on this connection
  bool ok() const { return is_good(status); }
};

class registry_service {
 public:
  // Monotonic time for the sign-up rate limit (tests pass their own).
  using monotonic_source = std::function<rate_limiter::time_point()>;

  registry_service(store::store& store, const clock& clock, registry_config config, std::string node_name,
                   monotonic_source monotonic = {});

  const registry_config& config() const { return config_; }

  // With a writer, decision records go out in batches (the server); without one, each is its
  // own transaction (the CLI and tests). The writer must outlive this service's use of it.
  void set_audit_writer(events::audit_writer* writer) { audit_writer_ = writer; }
  // registry.signup_rate while serving: applies to the next sign-up (any thread).
  void set_signup_rate(std::size_t per_second) { signups_.set_per_second(per_second); }

  // CA certificates.
  result<std::string> registration_code(const trust::actor& who);
  result<store::ca_record> register_ca(const pki::certificate& ca, const ca_options& options, const trust::actor& who);
  result<std::vector<store::ca_record>> list_cas();
  result<store::ca_record> show_ca(const std::string& id);
  result<store::ca_record> set_ca_active(const std::string& id, bool active, const trust::actor& who);
  result<void> delete_ca(const std::string& id, const trust::actor& who);

  // Device certificates.
  result<store::device_record> register_device(const pki::certificate& cert, const device_options& options,
                                               const trust::actor& who);
  result<store::device_record> show_device(const std::string& id);
  result<std::vector<store::device_client>> device_clients(const std::string& id);
  result<store::device_page> search(const store::device_filter& filter);
  result<store::device_record> activate(const std::string& id, const trust::actor& who);
  result<store::device_record> deactivate(const std::string& id, const trust::actor& who);
  result<store::device_record> revoke(const std::string& id, const trust::actor& who);  // final
  result<void> delete_device(const std::string& id, const trust::actor& who);

  // The admission decision, with automatic registration; audited.
  admission admit(const connection& conn);
  // Would a live connection with this certificate still be admitted? Good, or why not. No
  // writes: edges call it often to close connections whose certificate was revoked.
  status_code still_admitted(const std::string& device_id);

  // Group commit counters of automatic registrations (transactions, rows they carried).
  std::size_t registration_commits() const { return registrations_.commits(); }
  std::size_t registration_rows() const { return registrations_.rows(); }

 private:
  result<store::device_record> change_status(const std::string& id, store::device_status to, const trust::actor& who,
                                             const char* action);
  // The registered, active-or-not CA that issued `cert` (name and signature), if any.
  result<std::optional<store::ca_record>> issuing_ca(const pki::certificate& cert, const std::string& wanted_id);
  store::audit_record audit(const trust::actor& who, std::string action, std::string target, status_code result,
                            std::string detail) const;
  admission refuse(const connection& conn, admission a, status_code code, std::string message);
  void record_decision(store::audit_record audit, std::optional<store::device_client> seen);
  // Brings the caches up to the store's change feed.
  result<void> refresh_caches();
  template <typename Entry, typename Load>
  result<std::optional<Entry>> cached_lookup(sharded_cache<Entry>& cache, const std::string& id, Load load);
  result<std::optional<cached_device>> lookup_device(const std::string& id);
  result<std::optional<cached_ca>> lookup_ca(const std::string& id);

  store::store& store_;
  const clock& clock_;
  registry_config config_;
  std::string node_;
  monotonic_source monotonic_;
  rate_limiter signups_;
  events::audit_writer* audit_writer_ = nullptr;
  // Automatic registrations commit in groups (one durable transaction for all that wait).
  registration_batcher registrations_;
  sharded_cache<cached_device> devices_{4'000'000};
  sharded_cache<cached_ca> cas_{100'000};
  // The change-feed revision the caches reflect. A reader puts what it read from the store
  // only while this has not moved (under a shared lock), so a stale entry cannot outlive the
  // eviction of the change that made it stale.
  std::shared_mutex cache_mutex_;
  std::uint64_t cache_revision_ = 0;

  // The registered CA certificates, parsed once: every unknown certificate that connects is
  // matched against them (parsing DER is costly with OpenSSL 3). Dropped when the change feed
  // names a CA; loaded again on the next use, kept only if no change came in between.
  struct registered_ca {
    store::ca_record record;
    pki::certificate certificate;
  };
  result<std::shared_ptr<const std::vector<registered_ca>>> registered_cas();
  std::mutex ca_snapshot_mutex_;  // after cache_mutex_ when both are held
  std::shared_ptr<const std::vector<registered_ca>> ca_snapshot_;
};

// Normalises a typed identifier (thumbprint) to upper hex; BadInvalidArgument otherwise.
result<std::string> normalize_id(const std::string& text);

}  // namespace castellan::registry
