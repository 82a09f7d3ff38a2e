#pragma once
// The trust store as a service: the lists, the administrator's operations on them, and the
// admission decision the edges ask for. Knows nothing of sockets, HTTP or OPC UA encodings.
//
// Every change is one store transaction with its audit record. Decisions read an immutable
// snapshot that is rebuilt when the store's trust revision moves — also when another process
// (the CLI beside a running server) made the change — so there is no "sync" step.

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/store.h"
#include "trust/trust_snapshot.h"
#include "trust/validator.h"

namespace castellan::events {
class audit_writer;
}

namespace castellan::trust {

struct trust_config {
  validation_mode mode = validation_mode::trusted_list;
  bool auto_reject = true;          // park untrusted certificates in the rejected list
  std::size_t max_rejected = 1000;  // oldest (least recently attempted) dropped first
  bool require_crl = false;
  std::string system_ca_file = "/etc/ssl/certs/ca-certificates.crt";
};

// Who asks and from where, for the audit log.
struct actor {
  std::string name = "system";
  std::string source = "local";
};

// One input to an import: its bytes and what to call it in errors.
struct named_input {
  std::string source;
  bytes data;
};

// The OPC UA PKI folder layout in memory: folder ("trusted/certs", …) → file name → DER.
using pki_layout = std::map<std::string, std::map<std::string, std::string>>;

struct change_report {
  std::vector<store::certificate_record> changed;  // certificates added or moved
  std::vector<store::crl_record> crls;             // CRLs added
  std::vector<std::string> unchanged;              // thumbprints already where asked
  std::vector<std::string> removed;                // thumbprints and CRL ids taken out (replace_lists)
};

// A whole trust list as OPC UA pushes it (Part 12 TrustListDataType): each list that is set
// replaces what the store holds in it; a list left unset is not touched.
struct trust_list_replacement {
  std::optional<std::vector<bytes>> trusted_certificates;
  std::optional<std::vector<bytes>> trusted_crls;
  std::optional<std::vector<bytes>> issuer_certificates;
  std::optional<std::vector<bytes>> issuer_crls;
};

class trust_service {
 public:
  trust_service(store::store& store, const clock& clock, trust_config config, std::string node_name);

  const trust_config& config() const { return config_; }

  // With a writer, decision records that change nothing go out in batches (the server);
  // parking a certificate in the rejected list is a change and keeps its own transaction.
  void set_audit_writer(events::audit_writer* writer) { audit_writer_ = writer; }

  // Lists.
  result<std::vector<store::certificate_record>> list(std::optional<store::trust_state> state);
  result<store::certificate_record> show(const std::string& thumbprint);
  result<std::vector<store::crl_record>> list_crls();

  // Adds certificates to the trusted or issuer list. All-or-nothing: one unreadable input,
  // or a certificate already in that list, refuses the whole call and changes nothing.
  // A certificate in the rejected list moves (that is an approval).
  result<change_report> add(const std::vector<named_input>& inputs, store::trust_state target, const actor& who);
  // rejected → trusted.
  result<store::certificate_record> approve(const std::string& thumbprint, const actor& who);
  // trusted or issuer → rejected.
  result<store::certificate_record> reject(const std::string& thumbprint, const actor& who);
  result<store::certificate_record> remove(const std::string& thumbprint, const actor& who);
  // CRLs, each signed by a CA in the trusted or issuer list (refused otherwise).
  result<change_report> add_crls(const std::vector<named_input>& inputs, const actor& who);
  // Replaces the lists that are set, in one transaction, with one audit record per
  // certificate or CRL added (trust.add, trust.crl.add), moved or removed (trust.remove,
  // trust.crl.remove). All-or-nothing: an unreadable certificate or CRL, a non-CA in the
  // issuer list, or a CRL signed by no CA of the resulting lists refuses the whole update.
  // A certificate in both new lists goes to the trusted list (which also serves as issuer).
  result<change_report> replace_lists(const trust_list_replacement& lists, const actor& who);

  // OPC UA RemoveCertificate (Part 12 §7.8.2.5): removes a certificate from `list` (trusted or
  // issuer; BadNotFound when it is not there) and, when it is a CA, the CRLs it signed, in one
  // transaction (trust.remove, trust.crl.remove).
  result<change_report> remove_from_list(const std::string& thumbprint, store::trust_state list, const actor& who);

  // When the trusted or issuer lists or their CRLs last changed, by any edge or process
  // (the newest addition or removal the store records); the epoch when they never did.
  result<sys_time> last_change();

  // The OPC UA PKI folder layout (trusted/certs, trusted/crl, issuers/certs, issuers/crl,
  // rejected/certs): import is all-or-nothing; certificates already in place are reported
  // unchanged. Export writes DER files named by thumbprint and removes stale ones.
  result<change_report> import_pki_folder(const std::filesystem::path& dir, const actor& who);
  result<std::size_t> export_pki_folder(const std::filesystem::path& dir);
  // The files export_pki_folder writes, without writing them (for archives).
  result<pki_layout> pki_files();

  // A dry run in any mode: no list changes, no audit record.
  validation_result verify(const validation_request& request, std::optional<validation_mode> mode = std::nullopt);

  // The admission decision for a connecting peer: validates in the configured mode, parks an
  // untrusted certificate in the rejected list (trusted-list/trusted-ca with auto_reject), and
  // writes the audit record.
  validation_result admit(const validation_request& request, const actor& who, const std::string& edge);

  // The current lists; rebuilt when the store's revision has moved.
  result<std::shared_ptr<const trust_snapshot>> snapshot();

 private:
  result<std::shared_ptr<const trust_snapshot>> rebuild(std::uint64_t revision);
  const certificate_validator& validator_for(validation_mode mode);
  store::audit_record audit(const actor& who, std::string action, std::string target, status_code result,
                            std::string detail) const;
  result<store::certificate_record> move(const std::string& thumbprint, store::trust_state from_a,
                                         std::optional<store::trust_state> from_b, std::optional<store::trust_state> to,
                                         const actor& who, const char* action, bool from_any);

  store::store& store_;
  const clock& clock_;
  trust_config config_;
  std::string node_;
  std::shared_ptr<const anchor_set> system_anchors_;
  std::unique_ptr<certificate_validator> validators_[4];

  events::audit_writer* audit_writer_ = nullptr;
  std::mutex last_change_mutex_;
  std::optional<std::pair<std::uint64_t, sys_time>> last_change_;  // (revision, time) cache
  std::mutex rebuild_mutex_;
  std::atomic<std::shared_ptr<const trust_snapshot>> current_;
};

// An audit record for `who` doing `action` on `target` with `result`; the one place its fields are filled.
store::audit_record make_audit_record(sys_time when, const std::string& node, const actor& who, std::string action,
                                      std::string target, status_code result, std::string detail);

// A store record describing a certificate (facts copied out for listing and search).
store::certificate_record make_certificate_record(const pki::certificate& cert, store::trust_state state, sys_time now);

}  // namespace castellan::trust
