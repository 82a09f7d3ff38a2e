#pragma once
// The store: one interface, backends behind it (SQLite embedded; PostgreSQL for several
// nodes). Every change happens inside transact(), and the audit record of a change is
// written in the same transaction as the change, so there is never one without the other.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"
#include "store/registry_store.h"
#include "store/users_store.h"
#include "store/authz_store.h"

namespace castellan::store {

// Valid only inside store::transact. All writes in one body commit together or not at all.
class transaction {
 public:
  virtual ~transaction() = default;
  virtual result<std::optional<certificate_record>> find_certificate(const std::string& thumbprint) = 0;
  // Insert, or replace the row with the same thumbprint.
  virtual result<void> put_certificate(const certificate_record& record) = 0;
  // False when there was no such certificate.
  virtual result<bool> delete_certificate(const std::string& thumbprint) = 0;
  // Counts an attempt by a refused certificate: inserts it in the rejected list or bumps its
  // attempt count and last-attempt time; then drops the oldest rejected entries beyond `max_rejected`.
  virtual result<void> record_rejection(const certificate_record& record, sys_time when, std::size_t max_rejected) = 0;
  virtual result<std::optional<crl_record>> find_crl(const std::string& id) = 0;
  virtual result<void> put_crl(const crl_record& record) = 0;
  virtual result<bool> delete_crl(const std::string& id) = 0;
  virtual result<void> append_audit(const audit_record& record) = 0;
  // The device registry's writes, in this same transaction.
  virtual registry_transaction& registry() = 0;
  // The users service's writes, in this same transaction.
  virtual users_transaction& users() = 0;
  // The authorization service's writes, in this same transaction.
  virtual authz_transaction& authz() = 0;
};

class store {
 public:
  virtual ~store() = default;

  // Runs `body` in one transaction; commits when it returns ok, rolls back otherwise (and on
  // any store error). The body's error is returned unchanged.
  virtual result<void> transact(const std::function<result<void>(transaction&)>& body) = 0;

  virtual result<std::vector<certificate_record>> list_certificates(std::optional<trust_state> state) = 0;
  virtual result<std::optional<certificate_record>> find_certificate(const std::string& thumbprint) = 0;
  virtual result<std::vector<crl_record>> list_crls() = 0;
  virtual result<std::vector<audit_record>> list_audit(const audit_filter& filter) = 0;

  // A number that changes whenever anyone — this process or another — commits a change to
  // the trusted or issuer lists or the CRLs. Cheap: callers poll it before trust decisions.
  virtual result<std::uint64_t> trust_revision() = 0;

  // The device registry's reads.
  virtual registry_reader& registry() = 0;
  // The users service's reads.
  virtual users_reader& users() = 0;
  // The authorization service's reads.
  virtual authz_reader& authz() = 0;

  virtual int schema_version() = 0;
  virtual std::string describe() const = 0;
  // The backend's own consistency check: "ok", or what is wrong. Backends without one say so.
  virtual result<std::string> integrity_check() {
    return make_error(status_code::BadNotSupported, describe() + ": no integrity check for this store");
  }  // e.g. "sqlite:/var/lib/castellan/castellan.db"
};

// Opens (creating and migrating when needed) the store at `location`: a file path for SQLite,
// or a postgresql:// URL once that backend exists.
result<std::unique_ptr<store>> open_store(const std::string& location);

}  // namespace castellan::store
