#include "registry/registry_service.h"

#include <openssl/rand.h>

#include "events/audit_writer.h"
#include "events/metrics.h"

namespace castellan::registry {
using store::ca_record;
using store::device_record;
using store::device_status;

namespace {

// Device metrics for /metrics. Labels are closed sets (edges, StatusCodes, two kinds), so the
// series stay bounded however many devices connect.
void count_admission(const std::string& edge, status_code result) {
  auto& m = events::metrics::global();
  m.describe("castellan_device_admissions_total", "counter", "Device connections decided by the registry, by edge and result StatusCode.");
  m.add("castellan_device_admissions_total", {{"edge", edge}, {"result", std::string(status_name(result))}});
}

void count_signup(const char* kind, status_code result) {
  auto& m = events::metrics::global();
  m.describe("castellan_device_signups_total", "counter",
             "Device sign-ups (auto: on first connect, manual: by an administrator), by result; BadTooManyOperations: rate limited.");
  m.add("castellan_device_signups_total", {{"kind", kind}, {"result", std::string(status_name(result))}});
}

store::device_record make_device(const pki::certificate& cert, const std::string& ca_id, const std::string& client_id,
                                 device_status status, const char* registration, sys_time now) {
  const auto subject = cert.subject();
  device_record d;
  d.id = cert.thumbprint();
  d.sha256 = cert.sha256_hex();
  d.ca_id = ca_id;
  d.der = cert.der();
  d.common_name = subject.common_name;
  d.organizational_unit = subject.organizational_unit;
  d.organization = subject.organization;
  d.serial = cert.serial_hex();
  d.client_id = client_id;
  d.effective_client_id = client_id.empty() ? subject.common_name : client_id;
  d.status = status;
  d.registration = registration;
  d.not_before = cert.not_before();
  d.not_after = cert.not_after();
  d.registered_at = now;
  d.status_changed_at = now;
  return d;
}

std::string describe(const device_record& d) { return d.id + " ('" + d.common_name + "')"; }

}  // namespace

std::string_view registration_mode_name(registration_mode m) {
  return m == registration_mode::automatic ? "auto" : "manual";
}

result<registration_mode> parse_registration_mode(std::string_view text) {
  if (text == "auto" || text == "automatic") return registration_mode::automatic;
  if (text == "manual") return registration_mode::manual;
  return make_error(status_code::BadInvalidArgument, "unknown registration mode '" + std::string(text) + "' (auto, manual)");
}

result<std::string> normalize_id(const std::string& text) {
  bytes raw;
  if (!from_hex(text, raw) || raw.size() != 20) {
    return make_error(status_code::BadInvalidArgument, "'" + text + "' is not a certificate id (40 hex digits, SHA-1 thumbprint)");
  }
  return to_hex(raw);
}

registry_service::registry_service(store::store& store, const clock& clock, registry_config config, std::string node_name,
                                   monotonic_source monotonic)
    : store_(store),
      clock_(clock),
      config_(config),
      node_(std::move(node_name)),
      monotonic_(monotonic ? std::move(monotonic) : [] { return std::chrono::steady_clock::now(); }),
      signups_(config.signups_per_second),
      registrations_(store) {}

store::audit_record registry_service::audit(const trust::actor& who, std::string action, std::string target, status_code result,
                                            std::string detail) const {
  return trust::make_audit_record(clock_.now(), node_, who, std::move(action), std::move(target), result, std::move(detail));
}

result<std::string> registry_service::registration_code(const trust::actor& who) {
  bytes raw(16);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return make_error(status_code::BadInternalError, "no randomness for a registration code");
  }
  const std::string code = to_hex(raw);
  auto r = store_.transact([&](store::transaction& tx) -> result<void> {
    if (auto w = tx.registry().put_registration_code(code, clock_.now() + std::chrono::hours(24)); !w) return w;
    return tx.append_audit(audit(who, "registry.ca.code", "", status_code::Good, "registration code issued (valid 24 h)"));
  });
  if (!r) return std::move(r).err();
  return code;
}

result<ca_record> registry_service::register_ca(const pki::certificate& ca, const ca_options& options, const trust::actor& who) {
  const auto bc = ca.basic_constraints();
  if (!bc.ca) {
    return make_error(status_code::BadCertificateIssuerUseNotAllowed,
                      ca.thumbprint() + " is not a CA certificate (basicConstraints CA:FALSE or absent)");
  }
  const sys_time now = clock_.now();
  if (now > ca.not_after() || now < ca.not_before()) {
    return make_error(status_code::BadCertificateTimeInvalid, ca.thumbprint() + " is outside its validity period");
  }
  std::string code;
  if (options.verification) {
    const auto& v = *options.verification;
    if (!v.names_issuer(ca) || !v.signature_verifies_with(ca)) {
      return make_error(status_code::BadSecurityChecksFailed,
                        "the verification certificate is not signed by the CA's key: no proof of possession");
    }
    code = v.subject().common_name;
  } else if (options.require_verification) {
    return make_error(status_code::BadSecurityChecksFailed,
                      "proof of possession required: a verification certificate signed by the CA whose CN is a registration code");
  }
  ca_record row;
  row.id = ca.thumbprint();
  row.der = ca.der();
  row.subject = ca.subject().text;
  row.common_name = ca.subject().common_name;
  row.serial = ca.serial_hex();
  row.not_before = ca.not_before();
  row.not_after = ca.not_after();
  row.active = options.active;
  row.auto_registration = options.auto_registration;
  row.require_approval = options.require_approval;
  row.verified = options.verification.has_value();
  row.registered_at = now;
  auto r = store_.transact([&](store::transaction& tx) -> result<void> {
    auto existing = tx.registry().find_ca(row.id);
    if (!existing) return std::move(existing).err();
    if (*existing) return make_error(status_code::BadEntryExists, "CA " + row.id + " is already registered");
    if (!code.empty()) {
      auto taken = tx.registry().take_registration_code(code, now);
      if (!taken) return std::move(taken).err();
      if (!*taken) {
        return make_error(status_code::BadSecurityChecksFailed,
                          "the verification certificate's CN '" + code + "' is not a valid, unused registration code");
      }
    }
    if (auto w = tx.registry().put_ca(row); !w) return w;
    return tx.append_audit(audit(who, "registry.ca.register", row.id, status_code::Good,
                                 row.subject + (row.verified ? " (proof of possession shown)" : "")));
  });
  if (!r) return std::move(r).err();
  return row;
}

result<std::vector<ca_record>> registry_service::list_cas() { return store_.registry().list_cas(); }

result<ca_record> registry_service::show_ca(const std::string& id) {
  auto key = normalize_id(id);
  if (!key) return std::move(key).err();
  auto found = store_.registry().find_ca(*key);
  if (!found) return std::move(found).err();
  if (!*found) return make_error(status_code::BadNotFound, "no registered CA " + *key);
  return std::move(**found);
}

result<ca_record> registry_service::set_ca_active(const std::string& id, bool active, const trust::actor& who) {
  auto key = normalize_id(id);
  if (!key) return std::move(key).err();
  ca_record row;
  auto r = store_.transact([&](store::transaction& tx) -> result<void> {
    auto found = tx.registry().find_ca(*key);
    if (!found) return std::move(found).err();
    if (!*found) return make_error(status_code::BadNotFound, "no registered CA " + *key);
    row = **found;
    row.active = active;
    if (auto w = tx.registry().put_ca(row); !w) return w;
    return tx.append_audit(audit(who, active ? "registry.ca.activate" : "registry.ca.deactivate", row.id, status_code::Good, row.subject));
  });
  if (!r) return std::move(r).err();
  return row;
}

result<void> registry_service::delete_ca(const std::string& id, const trust::actor& who) {
  auto key = normalize_id(id);
  if (!key) return std::move(key).err();
  return store_.transact([&](store::transaction& tx) -> result<void> {
    auto live = tx.registry().count_live_devices(*key);
    if (!live) return std::move(live).err();
    if (*live > 0) {
      return make_error(status_code::BadInvalidState, "CA " + *key + " still issued " + std::to_string(*live) +
                                                          " device certificates that are not revoked; revoke or delete them first");
    }
    auto deleted = tx.registry().delete_ca(*key);
    if (!deleted) return std::move(deleted).err();
    if (!*deleted) return make_error(status_code::BadNotFound, "no registered CA " + *key);
    return tx.append_audit(audit(who, "registry.ca.delete", *key, status_code::Good, ""));
  });
}

result<std::shared_ptr<const std::vector<registry_service::registered_ca>>> registry_service::registered_cas() {
  {
    std::lock_guard lock(ca_snapshot_mutex_);
    if (ca_snapshot_) return ca_snapshot_;
  }
  std::uint64_t before = 0;
  {
    std::shared_lock lock(cache_mutex_);
    before = cache_revision_;
  }
  auto rows = store_.registry().list_cas();
  if (!rows) return std::move(rows).err();
  auto snapshot = std::make_shared<std::vector<registered_ca>>();
  for (auto& row : *rows) {
    auto parsed = pki::certificate::from_der(row.der);
    if (parsed) snapshot->push_back({std::move(row), std::move(*parsed)});
  }
  std::shared_lock lock(cache_mutex_);
  if (cache_revision_ == before) {  // no change came in while loading: see cache_mutex_
    std::lock_guard keep(ca_snapshot_mutex_);
    ca_snapshot_ = snapshot;
  }
  return std::shared_ptr<const std::vector<registered_ca>>(std::move(snapshot));
}

result<std::optional<ca_record>> registry_service::issuing_ca(const pki::certificate& cert, const std::string& wanted_id) {
  // Current as of the change feed (a CA registered or deactivated by another process counts).
  if (auto r = refresh_caches(); !r) return std::move(r).err();
  auto cas = registered_cas();
  if (!cas) return std::move(cas).err();
  for (const auto& ca : **cas) {
    if (!wanted_id.empty() && ca.record.id != wanted_id) continue;
    if (cert.names_issuer(ca.certificate) && cert.signature_verifies_with(ca.certificate)) {
      return std::optional<ca_record>(ca.record);
    }
  }
  return std::optional<ca_record>{};
}

result<device_record> registry_service::register_device(const pki::certificate& cert, const device_options& options,
                                                        const trust::actor& who) {
  if (cert.basic_constraints().ca) {
    return make_error(status_code::BadCertificateUseNotAllowed, cert.thumbprint() + " is a CA certificate, not a device certificate");
  }
  std::string wanted;
  if (!options.ca_id.empty()) {
    auto key = normalize_id(options.ca_id);
    if (!key) return std::move(key).err();
    wanted = *key;
  }
  auto ca = issuing_ca(cert, wanted);
  if (!ca) return std::move(ca).err();
  if (!*ca) {
    return make_error(status_code::BadNotFound, wanted.empty() ? cert.thumbprint() + " was not issued by any registered CA"
                                                               : cert.thumbprint() + " was not issued by CA " + wanted);
  }
  const sys_time now = clock_.now();
  auto row = make_device(cert, (*ca)->id, options.client_id,
                         options.activate ? device_status::activated : device_status::not_activated, "manual", now);
  if (row.effective_client_id.empty()) {
    return make_error(status_code::BadInvalidArgument, cert.thumbprint() + " has no CN and no client ID was given");
  }
  if (!signups_.try_acquire(monotonic_())) {
    count_signup("manual", status_code::BadTooManyOperations);
    static_cast<void>(store_.transact([&](store::transaction& tx) {
      return tx.append_audit(audit(who, "registry.device.register", row.id, status_code::BadTooManyOperations,
                                   "sign-up rate limit reached"));
    }));
    return make_error(status_code::BadTooManyOperations, "more than " + std::to_string(signups_.per_second()) +
                                                             " sign-ups per second; try again");
  }
  auto r = store_.transact([&](store::transaction& tx) -> result<void> {
    auto clash = tx.registry().find_live_device_by_client_id(row.effective_client_id);
    if (!clash) return std::move(clash).err();
    if (*clash && (*clash)->id != row.id) {
      return make_error(status_code::BadEntryExists,
                        "client ID '" + row.effective_client_id + "' already belongs to device " + describe(**clash));
    }
    auto inserted = tx.registry().insert_device(row);
    if (!inserted) return std::move(inserted).err();
    if (!*inserted) return make_error(status_code::BadEntryExists, "device certificate " + row.id + " is already registered");
    return tx.append_audit(audit(who, "registry.device.register", row.id, status_code::Good,
                                 "manual, client ID '" + row.effective_client_id + "', " + std::string(store::device_status_name(row.status))));
  });
  if (!r) return std::move(r).err();
  count_signup("manual", status_code::Good);
  return row;
}

result<device_record> registry_service::show_device(const std::string& id) {
  auto key = normalize_id(id);
  if (!key) return std::move(key).err();
  auto found = store_.registry().find_device(*key);
  if (!found) return std::move(found).err();
  if (!*found) return make_error(status_code::BadNotFound, "no registered device certificate " + *key);
  return std::move(**found);
}

result<std::vector<store::device_client>> registry_service::device_clients(const std::string& id) {
  auto key = normalize_id(id);
  if (!key) return std::move(key).err();
  return store_.registry().device_clients(*key);
}

result<store::device_page> registry_service::search(const store::device_filter& filter) {
  return store_.registry().search_devices(filter, clock_.now());
}

result<device_record> registry_service::change_status(const std::string& id, device_status to, const trust::actor& who,
                                                      const char* action) {
  auto key = normalize_id(id);
  if (!key) return std::move(key).err();
  device_record row;
  auto r = store_.transact([&](store::transaction& tx) -> result<void> {
    auto found = tx.registry().find_device(*key);
    if (!found) return std::move(found).err();
    if (!*found) return make_error(status_code::BadNotFound, "no registered device certificate " + *key);
    row = **found;
    if (row.status == device_status::revoked) {
      return make_error(status_code::BadInvalidState, "device " + describe(row) + " is revoked; revocation is final");
    }
    if (to == device_status::activated) {
      auto clash = tx.registry().find_live_device_by_client_id(row.effective_client_id);
      if (!clash) return std::move(clash).err();
      if (*clash && (*clash)->id != row.id) {
        return make_error(status_code::BadEntryExists, "client ID '" + row.effective_client_id + "' belongs to device " + describe(**clash));
      }
    }
    const auto from = row.status;
    row.status = to;
    row.status_changed_at = clock_.now();
    if (auto w = tx.registry().update_device_status(row.id, to, row.status_changed_at); !w) return w;
    return tx.append_audit(audit(who, action, row.id, status_code::Good,
                                 std::string(store::device_status_name(from)) + " → " + std::string(store::device_status_name(to))));
  });
  if (!r) return std::move(r).err();
  return row;
}

result<device_record> registry_service::activate(const std::string& id, const trust::actor& who) {
  return change_status(id, device_status::activated, who, "registry.device.activate");
}
result<device_record> registry_service::deactivate(const std::string& id, const trust::actor& who) {
  return change_status(id, device_status::not_activated, who, "registry.device.deactivate");
}
result<device_record> registry_service::revoke(const std::string& id, const trust::actor& who) {
  return change_status(id, device_status::revoked, who, "registry.device.revoke");
}

result<void> registry_service::delete_device(const std::string& id, const trust::actor& who) {
  auto key = normalize_id(id);
  if (!key) return std::move(key).err();
  return store_.transact([&](store::transaction& tx) -> result<void> {
    auto found = tx.registry().find_device(*key);
    if (!found) return std::move(found).err();
    if (!*found) return make_error(status_code::BadNotFound, "no registered device certificate " + *key);
    if ((*found)->status == device_status::activated) {
      return make_error(status_code::BadInvalidState, "device " + describe(**found) + " is activated; deactivate or revoke it before deleting");
    }
    if (auto d = tx.registry().delete_device(*key); !d) return std::move(d).err();
    return tx.append_audit(audit(who, "registry.device.delete", *key, status_code::Good, describe(**found)));
  });
}

cached_device to_cached(const device_record& d) {
  return {d.id, d.ca_id, d.client_id, d.effective_client_id, d.common_name, d.status, d.not_before, d.not_after};
}

cached_ca to_cached(const ca_record& c) { return {c.id, c.active, c.auto_registration, c.require_approval}; }

result<void> registry_service::refresh_caches() {
  auto revision = store_.registry().registry_revision();
  if (!revision) return std::move(revision).err();
  {
    std::shared_lock lock(cache_mutex_);
    if (cache_revision_ == *revision) return {};
  }
  std::unique_lock lock(cache_mutex_);
  if (cache_revision_ == *revision) return {};
  auto changes = store_.registry().changes_since(cache_revision_);
  if (!changes) return std::move(changes).err();
  if (changes->too_many) {
    devices_.clear();
    cas_.clear();
    std::lock_guard drop(ca_snapshot_mutex_);
    ca_snapshot_.reset();
    cache_revision_ = *revision;
    return {};
  }
  for (const auto& id : changes->device_ids) devices_.evict(id);
  for (const auto& id : changes->ca_ids) cas_.evict(id);
  if (!changes->ca_ids.empty()) {
    std::lock_guard drop(ca_snapshot_mutex_);
    ca_snapshot_.reset();
  }
  cache_revision_ = changes->revision;
  return {};
}

template <typename Entry, typename Load>
result<std::optional<Entry>> registry_service::cached_lookup(sharded_cache<Entry>& cache, const std::string& id, Load load) {
  if (auto hit = cache.find(id)) return hit;
  std::uint64_t before = 0;
  {
    std::shared_lock lock(cache_mutex_);
    before = cache_revision_;
  }
  auto row = load(id);
  if (!row) return std::move(row).err();
  if (!*row) return std::optional<Entry>{};
  auto entry = to_cached(**row);
  std::shared_lock lock(cache_mutex_);
  if (cache_revision_ == before) cache.put(id, entry);  // see cache_mutex_ in the header
  return std::optional<Entry>(std::move(entry));
}

result<std::optional<cached_device>> registry_service::lookup_device(const std::string& id) {
  return cached_lookup(devices_, id, [this](const std::string& key) { return store_.registry().find_device(key); });
}

result<std::optional<cached_ca>> registry_service::lookup_ca(const std::string& id) {
  return cached_lookup(cas_, id, [this](const std::string& key) { return store_.registry().find_ca(key); });
}

void registry_service::record_decision(store::audit_record audit, std::optional<store::device_client> seen) {
  if (audit_writer_ != nullptr) {
    audit_writer_->append(std::move(audit), std::move(seen));
    return;
  }
  static_cast<void>(store_.transact([&](store::transaction& tx) -> result<void> {
    if (seen) {
      if (auto w = tx.registry().record_client(*seen); !w) return w;
    }
    return tx.append_audit(audit);
  }));
}

admission registry_service::refuse(const connection& conn, admission a, status_code code, std::string message) {
  count_admission(conn.edge, code);
  if (code == status_code::BadTooManyOperations) count_signup("auto", code);
  a.status = code;
  a.message = std::move(message);
  const trust::actor who{conn.edge + ":" + (a.client_id.empty() ? conn.client_id : a.client_id), conn.remote_address};
  record_decision(audit(who, "registry.admit", a.device_id, code, conn.edge + ": " + a.message), std::nullopt);
  return a;
}

admission registry_service::admit(const connection& conn) {
  admission a;
  if (conn.chain.empty()) {
    return refuse(conn, a, status_code::BadCertificateInvalid, "no client certificate");
  }
  const pki::certificate& leaf = conn.chain.front();
  a.device_id = leaf.thumbprint();
  const sys_time now = clock_.now();
  // Fail closed: without the change feed the caches may be stale.
  if (auto r = refresh_caches(); !r) return refuse(conn, a, status_code::BadResourceUnavailable, "store: " + r.err().message);

  auto found = lookup_device(a.device_id);
  if (!found) return refuse(conn, a, status_code::BadResourceUnavailable, "store: " + found.err().message);
  std::optional<cached_device> device = std::move(found).value();

  if (!device) {
    if (!config_.enabled) {
      return refuse(conn, a, status_code::BadCertificateUntrusted, "one-device-one-certificate is switched off");
    }
    if (config_.mode == registration_mode::manual) {
      return refuse(conn, a, status_code::BadCertificateUntrusted, "certificate not registered (manual registration)");
    }
    if (leaf.basic_constraints().ca) {
      return refuse(conn, a, status_code::BadCertificateUseNotAllowed, "a CA certificate cannot register as a device");
    }
    auto ca = issuing_ca(leaf, "");
    if (!ca) return refuse(conn, a, status_code::BadResourceUnavailable, "store: " + ca.err().message);
    if (!*ca) return refuse(conn, a, status_code::BadCertificateUntrusted, "its CA is not registered");
    if (!(*ca)->active) return refuse(conn, a, status_code::BadCertificateUntrusted, "its CA " + (*ca)->id + " is deactivated");
    if (!(*ca)->auto_registration) {
      return refuse(conn, a, status_code::BadCertificateUntrusted, "its CA " + (*ca)->id + " does not allow automatic registration");
    }
    if (now < leaf.not_before() || now > leaf.not_after()) {
      return refuse(conn, a, status_code::BadCertificateTimeInvalid, "the certificate is outside its validity period");
    }
    if (!signups_.try_acquire(monotonic_())) {
      return refuse(conn, a, status_code::BadTooManyOperations,
                    "sign-up rate limit of " + std::to_string(signups_.per_second()) + " per second reached; retry");
    }
    auto row = make_device(leaf, (*ca)->id, conn.client_id,
                           (*ca)->require_approval ? device_status::registered_not_activated : device_status::activated, "auto", now);
    if (row.effective_client_id.empty()) {
      return refuse(conn, a, status_code::BadInvalidArgument, "no client ID presented and the certificate has no CN");
    }
    const auto registered = registrations_.register_device(
        {row, audit({conn.edge + ":" + row.effective_client_id, conn.remote_address}, "registry.device.auto_register", row.id,
                    status_code::Good,
                    "CA " + row.ca_id + ", client ID '" + row.effective_client_id + "', " +
                        std::string(store::device_status_name(row.status)))});
    if (registered.kind == registration_batcher::outcome_kind::refused) {
      return refuse(conn, a, registered.failure.code, registered.failure.message);
    }
    const bool raced = registered.kind == registration_batcher::outcome_kind::already_registered;
    if (raced) {
      auto again = lookup_device(a.device_id);
      if (!again || !*again) return refuse(conn, a, status_code::BadResourceUnavailable, "registration raced and vanished");
      device = std::move(**again);
    } else {
      a.registered_now = true;
      count_signup("auto", status_code::Good);
      device = to_cached(row);
    }
  }

  a.device_status = device->status;
  a.client_id = !conn.client_id.empty() ? conn.client_id : device->effective_client_id;
  const std::string who = "certificate " + device->id + " ('" + device->common_name + "')";
  switch (device->status) {
    case device_status::revoked: return refuse(conn, a, status_code::BadCertificateRevoked, who + " is revoked");
    case device_status::not_activated: return refuse(conn, a, status_code::BadCertificateUntrusted, who + " is not activated");
    case device_status::registered_not_activated:
      return refuse(conn, a, status_code::BadCertificateUntrusted, who + " is registered but not activated (waiting for approval)");
    case device_status::activated: break;
  }
  auto ca = lookup_ca(device->ca_id);
  if (!ca) return refuse(conn, a, status_code::BadResourceUnavailable, "store: " + ca.err().message);
  if (!*ca || !(*ca)->active) {
    return refuse(conn, a, status_code::BadCertificateUntrusted, "the CA " + device->ca_id + " is deactivated or gone");
  }
  if (now < device->not_before || now > device->not_after) {
    return refuse(conn, a, status_code::BadCertificateTimeInvalid, who + " is outside its validity period");
  }
  if (a.client_id != device->effective_client_id) {
    // Presenting a client ID other than its own: it must not be another live device's.
    auto clash = store_.transact([&](store::transaction& tx) -> result<void> {
      auto other = tx.registry().find_live_device_by_client_id(a.client_id);
      if (!other) return std::move(other).err();
      if (*other && (*other)->id != device->id) {
        return make_error(status_code::BadEntryExists, "client ID '" + a.client_id + "' belongs to device " + describe(**other));
      }
      return {};
    });
    if (!clash) return refuse(conn, a, clash.err().code, clash.err().message);
  }
  count_admission(conn.edge, status_code::Good);
  record_decision(audit({conn.edge + ":" + a.client_id, conn.remote_address}, "registry.admit", device->id, status_code::Good,
                        conn.edge + ": admitted" + (a.registered_now ? " (registered on this connection)" : "")),
                  store::device_client{device->id, a.client_id, now, now, conn.remote_address, conn.edge, 1});
  return a;
}

status_code registry_service::still_admitted(const std::string& device_id) {
  auto key = normalize_id(device_id);
  if (!key) return key.err().code;
  if (!refresh_caches()) return status_code::BadResourceUnavailable;  // fail closed
  auto device = lookup_device(*key);
  if (!device) return status_code::BadResourceUnavailable;
  if (!*device) return status_code::BadCertificateUntrusted;
  switch ((*device)->status) {
    case device_status::revoked: return status_code::BadCertificateRevoked;
    case device_status::not_activated:
    case device_status::registered_not_activated: return status_code::BadCertificateUntrusted;
    case device_status::activated: break;
  }
  auto ca = lookup_ca((*device)->ca_id);
  if (!ca) return status_code::BadResourceUnavailable;
  if (!*ca || !(*ca)->active) return status_code::BadCertificateUntrusted;
  const sys_time now = clock_.now();
  if (now < (*device)->not_before || now > (*device)->not_after) return status_code::BadCertificateTimeInvalid;
  return status_code::Good;
}

}  // namespace castellan::registry
