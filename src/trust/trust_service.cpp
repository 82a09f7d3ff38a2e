#include "trust/trust_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/files.h"
#include "events/audit_writer.h"
#include "events/metrics.h"
#include "pki/encoding.h"

namespace castellan::trust {
namespace fs = std::filesystem;
using store::certificate_record;
using store::trust_state;

namespace {

// Thumbprints are typed by people: accept lower case and colons, store upper hex.
result<std::string> normalize_thumbprint(const std::string& text) {
  bytes raw;
  if (!from_hex(text, raw) || raw.size() != 20) {
    return make_error(status_code::BadInvalidArgument,
                      "'" + text + "' is not a certificate thumbprint (40 hex digits, SHA-1)");
  }
  return to_hex(raw);
}

std::string list_name(trust_state s) {
  switch (s) {
    case trust_state::trusted: return "the trusted list";
    case trust_state::issuer: return "the issuer list";
    case trust_state::rejected: return "the rejected list";
  }
  return "an unknown list";
}

store::crl_record make_crl_record(const pki::crl& c, trust_state list, sys_time now) {
  store::crl_record r;
  r.id = c.id();
  r.list = list;
  r.der = c.der();
  r.issuer = c.issuer().text;
  r.this_update = c.this_update();
  r.next_update = c.next_update();
  r.added_at = now;
  return r;
}

// A file name that other OPC UA stacks display well: "<CN> [<THUMBPRINT>].der".
std::string pki_file_name(const std::string& common_name, const std::string& id, const char* extension) {
  std::string safe;
  for (char c : common_name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    safe.push_back(ok ? c : '_');
  }
  if (safe.size() > 64) safe.resize(64);
  while (!safe.empty() && safe.front() == '.') safe.erase(safe.begin());
  return (safe.empty() ? std::string() : safe + " ") + "[" + id + "]" + extension;
}

result<std::vector<named_input>> read_folder(const fs::path& dir) {
  std::vector<named_input> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  if (!fs::is_directory(dir, ec)) {
    return make_error(status_code::BadInvalidArgument, dir.string() + ": not a directory");
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.front() == '.' || !entry.is_regular_file()) continue;
    files.push_back(entry.path());
  }
  if (ec) return make_error(status_code::BadResourceUnavailable, dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto data = read_file(f);
    if (!data) return std::move(data).err();
    out.push_back({f.string(), std::move(data).value()});
  }
  return out;
}

}  // namespace

store::certificate_record make_certificate_record(const pki::certificate& cert, trust_state state, sys_time now) {
  certificate_record r;
  r.thumbprint = cert.thumbprint();
  r.sha256 = cert.sha256_hex();
  r.state = state;
  r.der = cert.der();
  r.subject = cert.subject().text;
  r.issuer = cert.issuer().text;
  r.serial = cert.serial_hex();
  const auto uris = cert.san_uris();
  r.application_uri = uris.empty() ? std::string() : uris.front();
  r.not_before = cert.not_before();
  r.not_after = cert.not_after();
  r.added_at = now;
  return r;
}

trust_service::trust_service(store::store& store, const clock& clock, trust_config config, std::string node_name)
    : store_(store), clock_(clock), config_(std::move(config)), node_(std::move(node_name)) {
  const validator_options options{.require_crl = config_.require_crl};
  if (config_.mode == validation_mode::system) {
    auto anchors = anchor_set::load_bundle(config_.system_ca_file);
    if (anchors) {
      system_anchors_ = std::move(anchors).value();
    } else {
      // Fail closed: with no OS anchors nothing validates in system mode.
      spdlog::error("trust: system mode without CA store: {}", anchors.err().message);
    }
  }
  for (auto mode : {validation_mode::accept_any, validation_mode::system, validation_mode::trusted_list,
                    validation_mode::trusted_ca}) {
    validators_[static_cast<int>(mode)] = make_validator(mode, options, system_anchors_);
  }
}

const certificate_validator& trust_service::validator_for(validation_mode mode) {
  return *validators_[static_cast<int>(mode)];
}

store::audit_record make_audit_record(sys_time when, const std::string& node, const actor& who, std::string action,
                                      std::string target, status_code result, std::string detail) {
  store::audit_record a;
  a.time = when;
  a.node = node;
  a.actor = who.name;
  a.source = who.source;
  a.action = std::move(action);
  a.target = std::move(target);
  a.result = std::string(status_name(result));
  a.detail = std::move(detail);
  return a;
}

store::audit_record trust_service::audit(const actor& who, std::string action, std::string target, status_code result,
                                         std::string detail) const {
  return make_audit_record(clock_.now(), node_, who, std::move(action), std::move(target), result, std::move(detail));
}

result<std::shared_ptr<const trust_snapshot>> trust_service::snapshot() {
  auto revision = store_.trust_revision();
  if (!revision) return std::move(revision).err();
  auto current = current_.load();
  if (current && current->revision == *revision) {
    return current;
  }
  std::lock_guard lock(rebuild_mutex_);
  current = current_.load();
  if (current && current->revision == *revision) {
    return current;
  }
  return rebuild(*revision);
}

result<std::shared_ptr<const trust_snapshot>> trust_service::rebuild(std::uint64_t revision) {
  auto certs = store_.list_certificates(std::nullopt);
  if (!certs) return std::move(certs).err();
  auto crls = store_.list_crls();
  if (!crls) return std::move(crls).err();
  std::vector<pki::certificate> trusted;
  std::vector<pki::certificate> issuers;
  for (const auto& row : *certs) {
    if (row.state == trust_state::rejected) continue;
    auto cert = pki::certificate::from_der(row.der);
    if (!cert) {
      // Fail closed: a list we cannot read must not silently lose an entry.
      return make_error(status_code::BadDataLost, "stored certificate " + row.thumbprint + " no longer parses");
    }
    (row.state == trust_state::trusted ? trusted : issuers).push_back(std::move(cert).value());
  }
  std::vector<pki::crl> parsed_crls;
  for (const auto& row : *crls) {
    auto c = pki::crl::from_der(row.der);
    if (!c) return make_error(status_code::BadDataLost, "stored CRL " + row.id + " no longer parses");
    parsed_crls.push_back(std::move(c).value());
  }
  // The revision is read before the lists; a change in between leaves an older revision on
  // a newer picture, and the next call rebuilds again. Never the other way round.
  auto snap = trust_snapshot::build(revision, std::move(trusted), std::move(issuers), std::move(parsed_crls));
  current_.store(snap);
  return snap;
}

result<std::vector<certificate_record>> trust_service::list(std::optional<trust_state> state) {
  return store_.list_certificates(state);
}

result<certificate_record> trust_service::show(const std::string& thumbprint) {
  auto tp = normalize_thumbprint(thumbprint);
  if (!tp) return std::move(tp).err();
  auto found = store_.find_certificate(*tp);
  if (!found) return std::move(found).err();
  if (!*found) return make_error(status_code::BadNotFound, "no certificate with thumbprint " + *tp);
  return std::move(**found);
}

result<std::vector<store::crl_record>> trust_service::list_crls() { return store_.list_crls(); }

result<change_report> trust_service::add(const std::vector<named_input>& inputs, trust_state target, const actor& who) {
  if (target == trust_state::rejected) {
    return make_error(status_code::BadInvalidArgument, "certificates are added to the trusted or issuer list");
  }
  // Parse everything before touching the store: one bad input refuses the whole call.
  std::vector<std::pair<std::string, pki::certificate>> certs;
  std::set<std::string> seen;
  for (const auto& input : inputs) {
    auto parsed = pki::parse_certificates(input.data, input.source);
    if (!parsed) return std::move(parsed).err();
    for (auto& cert : *parsed) {
      if (target == trust_state::issuer && !cert.basic_constraints().ca) {
        return make_error(status_code::BadCertificateIssuerUseNotAllowed,
                          input.source + ": " + cert.thumbprint() + " is not a CA certificate (basicConstraints); "
                          "the issuer list holds CAs");
      }
      if (seen.insert(cert.thumbprint()).second) {
        certs.emplace_back(input.source, std::move(cert));
      }
    }
  }
  if (certs.empty()) {
    return make_error(status_code::BadInvalidArgument, "no certificate given");
  }
  change_report report;
  const sys_time now = clock_.now();
  auto outcome = store_.transact([&](store::transaction& tx) -> result<void> {
    for (const auto& [source, cert] : certs) {
      auto existing = tx.find_certificate(cert.thumbprint());
      if (!existing) return std::move(existing).err();
      certificate_record row = make_certificate_record(cert, target, now);
      std::string detail = "added to " + list_name(target) + " from " + source;
      if (*existing) {
        if ((*existing)->state == target) {
          return make_error(status_code::BadEntryExists,
                            source + ": " + cert.thumbprint() + " is already in " + list_name(target));
        }
        detail = "moved from " + list_name((*existing)->state) + " to " + list_name(target) + " (" + source + ")";
        row.first_attempt = (*existing)->first_attempt;
        row.last_attempt = (*existing)->last_attempt;
        row.attempts = (*existing)->attempts;
      }
      if (auto r = tx.put_certificate(row); !r) return r;
      if (auto r = tx.append_audit(audit(who, "trust.add", row.thumbprint, status_code::Good, detail)); !r) return r;
      report.changed.push_back(std::move(row));
    }
    return {};
  });
  if (!outcome) return std::move(outcome).err();
  return report;
}

result<certificate_record> trust_service::move(const std::string& thumbprint, trust_state from_a,
                                               std::optional<trust_state> from_b, std::optional<trust_state> to,
                                               const actor& who, const char* action, bool from_any) {
  auto tp = normalize_thumbprint(thumbprint);
  if (!tp) return std::move(tp).err();
  certificate_record moved;
  auto outcome = store_.transact([&](store::transaction& tx) -> result<void> {
    auto existing = tx.find_certificate(*tp);
    if (!existing) return std::move(existing).err();
    if (!*existing) {
      return make_error(status_code::BadNotFound, "no certificate with thumbprint " + *tp);
    }
    moved = **existing;
    const trust_state was = moved.state;
    if (!from_any && was != from_a && (!from_b || was != *from_b)) {
      return make_error(status_code::BadInvalidState, *tp + " is in " + list_name(was) + ", not in " + list_name(from_a));
    }
    std::string detail;
    if (to) {
      moved.state = *to;
      moved.added_at = clock_.now();
      if (auto r = tx.put_certificate(moved); !r) return r;
      detail = "moved from " + list_name(was) + " to " + list_name(*to);
    } else {
      if (auto r = tx.delete_certificate(*tp); !r) return std::move(r).err();
      detail = "removed from " + list_name(was);
    }
    detail += " (" + moved.subject + ")";
    return tx.append_audit(audit(who, action, *tp, status_code::Good, detail));
  });
  if (!outcome) return std::move(outcome).err();
  return moved;
}

result<certificate_record> trust_service::approve(const std::string& thumbprint, const actor& who) {
  return move(thumbprint, trust_state::rejected, std::nullopt, trust_state::trusted, who, "trust.approve", false);
}

result<certificate_record> trust_service::reject(const std::string& thumbprint, const actor& who) {
  return move(thumbprint, trust_state::trusted, trust_state::issuer, trust_state::rejected, who, "trust.reject", false);
}

result<certificate_record> trust_service::remove(const std::string& thumbprint, const actor& who) {
  // Any list: removal is how an administrator forgets a certificate altogether.
  return move(thumbprint, trust_state::trusted, std::nullopt, std::nullopt, who, "trust.remove", true);
}

result<change_report> trust_service::add_crls(const std::vector<named_input>& inputs, const actor& who) {
  auto snap = snapshot();
  if (!snap) return std::move(snap).err();
  std::vector<std::pair<std::string, pki::crl>> crls;
  for (const auto& input : inputs) {
    auto parsed = pki::parse_crls(input.data, input.source);
    if (!parsed) return std::move(parsed).err();
    for (auto& c : *parsed) crls.emplace_back(input.source, std::move(c));
  }
  if (crls.empty()) return make_error(status_code::BadInvalidArgument, "no CRL given");

  struct placed {
    store::crl_record record;
    std::string ca;
  };
  std::vector<placed> rows;
  const sys_time now = clock_.now();
  for (const auto& [source, c] : crls) {
    const pki::certificate* signer = nullptr;
    trust_state list = trust_state::issuer;
    bool name_match = false;
    for (const auto& [certs, state] : {std::pair{&(*snap)->trusted, trust_state::trusted},
                                       std::pair{&(*snap)->issuers, trust_state::issuer}}) {
      for (const auto& ca : *certs) {
        if (X509_NAME_cmp(X509_CRL_get_issuer(c.native()), X509_get_subject_name(ca.native())) != 0) continue;
        name_match = true;
        if (c.issued_by(ca)) {
          signer = &ca;
          list = state;
          break;
        }
      }
      if (signer != nullptr) break;
    }
    if (signer == nullptr) {
      return make_error(name_match ? status_code::BadSecurityChecksFailed : status_code::BadNotFound,
                        source + ": the CRL from '" + c.issuer().text + "' " +
                            (name_match ? "does not verify with that CA's key" : "names a CA that is in neither the trusted nor the issuer list"));
    }
    rows.push_back({make_crl_record(c, list, now), signer->thumbprint()});
  }
  change_report report;
  auto outcome = store_.transact([&](store::transaction& tx) -> result<void> {
    for (const auto& row : rows) {
      auto existing = tx.find_crl(row.record.id);
      if (!existing) return std::move(existing).err();
      if (*existing) return make_error(status_code::BadEntryExists, "CRL " + row.record.id + " is already stored");
      if (auto r = tx.put_crl(row.record); !r) return r;
      if (auto r = tx.append_audit(audit(who, "trust.crl.add", row.record.id, status_code::Good,
                                         "CRL of " + row.record.issuer + " (CA " + row.ca + ") in " + list_name(row.record.list)));
          !r) {
        return r;
      }
      report.crls.push_back(row.record);
    }
    return {};
  });
  if (!outcome) return std::move(outcome).err();
  return report;
}

validation_result trust_service::verify(const validation_request& request, std::optional<validation_mode> mode) {
  auto snap = snapshot();
  if (!snap) {
    validation_result r;
    r.status = snap.err().code;
    r.step = "store";
    r.message = snap.err().message;
    return r;
  }
  return validator_for(mode.value_or(config_.mode)).validate(request, **snap, clock_.now());
}

validation_result trust_service::admit(const validation_request& request, const actor& who, const std::string& edge) {
  validation_result r = verify(request);
  if (config_.mode == validation_mode::accept_any && r.ok()) {
    spdlog::warn("trust: accept-any mode admitted {} on {} without validation", r.thumbprint, edge);
  }
  const bool park = r.status == status_code::BadCertificateUntrusted && config_.auto_reject &&
                    (config_.mode == validation_mode::trusted_list || config_.mode == validation_mode::trusted_ca);
  const std::string detail = edge + ": " + (r.ok() ? std::string("admitted") : r.step + ": " + r.message) +
                             (park ? "; parked in the rejected list" : "");
  events::metrics::global().add(r.ok() ? "castellan_trust_admissions_total" : "castellan_trust_rejections_total",
                                r.ok() ? events::labels{{"edge", edge}} : events::labels{{"edge", edge}, {"code", std::string(status_name(r.status))}});
  if (!park && audit_writer_ != nullptr) {
    audit_writer_->append(audit(who, "trust.admit", r.thumbprint, r.status, detail));
    return r;
  }
  auto written = store_.transact([&](store::transaction& tx) -> result<void> {
    if (park) {
      auto row = make_certificate_record(request.chain.front(), trust_state::rejected, clock_.now());
      if (auto w = tx.record_rejection(row, clock_.now(), config_.max_rejected); !w) return w;
    }
    return tx.append_audit(audit(who, "trust.admit", r.thumbprint, r.status, detail));
  });
  if (!written) {
    // Audit every decision or make none: an admission we cannot record is refused.
    spdlog::error("trust: cannot record the decision on {}: {}", r.thumbprint, written.err().message);
    if (r.ok()) {
      r.status = status_code::BadInternalError;
      r.step = "audit";
      r.message = "the decision could not be recorded: " + written.err().message;
    }
  }
  return r;
}

result<change_report> trust_service::import_pki_folder(const fs::path& dir, const actor& who) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error(status_code::BadNotFound, dir.string() + ": no such directory");
  }
  struct folder {
    const char* path;
    trust_state state;
  };
  const folder cert_folders[] = {{"trusted/certs", trust_state::trusted},
                                 {"issuers/certs", trust_state::issuer},
                                 {"rejected/certs", trust_state::rejected}};
  std::vector<std::pair<trust_state, std::pair<std::string, pki::certificate>>> certs;
  for (const auto& f : cert_folders) {
    auto inputs = read_folder(dir / f.path);
    if (!inputs) return std::move(inputs).err();
    for (const auto& input : *inputs) {
      auto parsed = pki::parse_certificates(input.data, input.source);
      if (!parsed) return std::move(parsed).err();
      for (auto& c : *parsed) certs.push_back({f.state, {input.source, std::move(c)}});
    }
  }
  std::vector<std::pair<std::string, pki::crl>> crls;
  for (const char* sub : {"trusted/crl", "issuers/crl"}) {
    auto inputs = read_folder(dir / sub);
    if (!inputs) return std::move(inputs).err();
    for (const auto& input : *inputs) {
      auto parsed = pki::parse_crls(input.data, input.source);
      if (!parsed) return std::move(parsed).err();
      for (auto& c : *parsed) crls.emplace_back(input.source, std::move(c));
    }
  }
  auto snap = snapshot();
  if (!snap) return std::move(snap).err();
  // CAs a CRL may come from: those already listed and those arriving now.
  std::vector<std::pair<const pki::certificate*, trust_state>> cas;
  for (const auto& c : (*snap)->trusted) cas.emplace_back(&c, trust_state::trusted);
  for (const auto& c : (*snap)->issuers) cas.emplace_back(&c, trust_state::issuer);
  for (const auto& [state, item] : certs) {
    if (state != trust_state::rejected) cas.emplace_back(&item.second, state);
  }
  std::vector<store::crl_record> crl_rows;
  const sys_time now = clock_.now();
  for (const auto& entry : crls) {
    const pki::crl& c = entry.second;  // (clang 14 cannot capture structured bindings)
    auto it = std::find_if(cas.begin(), cas.end(), [&](const auto& ca) { return c.issued_by(*ca.first); });
    if (it == cas.end()) {
      return make_error(status_code::BadNotFound, entry.first + ": no CA in the lists or the folder signed this CRL");
    }
    crl_rows.push_back(make_crl_record(c, it->second, now));
  }

  change_report report;
  auto outcome = store_.transact([&](store::transaction& tx) -> result<void> {
    std::set<std::string> done;
    for (const auto& [state, item] : certs) {
      const auto& [source, cert] = item;
      if (!done.insert(cert.thumbprint()).second) continue;
      auto existing = tx.find_certificate(cert.thumbprint());
      if (!existing) return std::move(existing).err();
      if (*existing && ((*existing)->state == state || state == trust_state::rejected)) {
        // Already known; a rejected copy never demotes a listed certificate.
        report.unchanged.push_back(cert.thumbprint());
        continue;
      }
      auto row = make_certificate_record(cert, state, now);
      if (auto r = tx.put_certificate(row); !r) return r;
      std::string detail = "imported into " + list_name(state) + " from " + source;
      if (auto r = tx.append_audit(audit(who, "trust.import", row.thumbprint, status_code::Good, detail)); !r) return r;
      report.changed.push_back(std::move(row));
    }
    for (const auto& row : crl_rows) {
      auto existing = tx.find_crl(row.id);
      if (!existing) return std::move(existing).err();
      if (*existing) {
        report.unchanged.push_back(row.id);
        continue;
      }
      if (auto r = tx.put_crl(row); !r) return r;
      if (auto r = tx.append_audit(audit(who, "trust.import", row.id, status_code::Good, "CRL of " + row.issuer)); !r) return r;
      report.crls.push_back(row);
    }
    return {};
  });
  if (!outcome) return std::move(outcome).err();
  return report;
}

result<pki_layout> trust_service::pki_files() {
  auto certs = store_.list_certificates(std::nullopt);
  if (!certs) return std::move(certs).err();
  auto crls = store_.list_crls();
  if (!crls) return std::move(crls).err();
  pki_layout wanted;
  for (const char* sub : {"trusted/certs", "trusted/crl", "issuers/certs", "issuers/crl", "rejected/certs"}) {
    wanted[sub];
  }
  for (const auto& row : *certs) {
    const char* sub = row.state == trust_state::trusted ? "trusted/certs"
                      : row.state == trust_state::issuer ? "issuers/certs"
                                                         : "rejected/certs";
    auto cert = pki::certificate::from_der(row.der);
    const std::string cn = cert ? cert->subject().common_name : std::string();
    wanted[sub][pki_file_name(cn, row.thumbprint, ".der")] = std::string(row.der.begin(), row.der.end());
  }
  for (const auto& row : *crls) {
    const char* sub = row.list == trust_state::trusted ? "trusted/crl" : "issuers/crl";
    wanted[sub][pki_file_name("", row.id, ".crl")] = std::string(row.der.begin(), row.der.end());
  }
  return wanted;
}

result<std::size_t> trust_service::export_pki_folder(const fs::path& dir) {
  auto layout = pki_files();
  if (!layout) return std::move(layout).err();
  const auto& wanted = *layout;
  std::size_t written = 0;
  for (const auto& [sub, files] : wanted) {
    const fs::path folder = dir / sub;
    if (auto r = ensure_directory(folder, 0755); !r) return std::move(r).err();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      if (entry.is_regular_file() && !files.contains(entry.path().filename().string())) {
        fs::remove(entry.path(), ec);
      }
    }
    for (const auto& [name, der] : files) {
      if (auto r = write_file_atomic(folder / name, der, 0644); !r) return std::move(r).err();
      ++written;
    }
  }
  return written;
}

}  // namespace castellan::trust

namespace castellan::trust {

result<change_report> trust_service::replace_lists(const trust_list_replacement& lists, const actor& who) {
  // Parse and check everything before touching the store.
  auto parse_certs = [](const std::optional<std::vector<bytes>>& in, const char* what,
                        bool must_be_ca) -> result<std::vector<pki::certificate>> {
    std::vector<pki::certificate> out;
    if (!in) return out;
    for (std::size_t i = 0; i < in->size(); ++i) {
      auto cert = pki::certificate::from_der((*in)[i]);
      if (!cert) {
        return make_error(status_code::BadCertificateInvalid,
                          std::string(what) + "[" + std::to_string(i) + "] is not a DER certificate");
      }
      if (must_be_ca && !cert->basic_constraints().ca) {
        return make_error(status_code::BadCertificateIssuerUseNotAllowed,
                          std::string(what) + "[" + std::to_string(i) + "] " + cert->thumbprint() +
                              " is not a CA certificate; the issuer list holds CAs");
      }
      out.push_back(std::move(cert).value());
    }
    return out;
  };
  auto trusted = parse_certs(lists.trusted_certificates, "TrustedCertificates", false);
  if (!trusted) return std::move(trusted).err();
  auto issuers = parse_certs(lists.issuer_certificates, "IssuerCertificates", true);
  if (!issuers) return std::move(issuers).err();

  auto stored = store_.list_certificates(std::nullopt);
  if (!stored) return std::move(stored).err();
  auto stored_crls = store_.list_crls();
  if (!stored_crls) return std::move(stored_crls).err();

  // The certificates each list will hold afterwards (thumbprint → certificate).
  std::map<std::string, pki::certificate> new_trusted;
  std::map<std::string, pki::certificate> new_issuers;
  for (auto& c : *trusted) new_trusted.emplace(c.thumbprint(), c);
  for (auto& c : *issuers) {
    if (!new_trusted.contains(c.thumbprint())) new_issuers.emplace(c.thumbprint(), c);
  }
  std::vector<pki::certificate> signers;  // CAs of the resulting lists, to check CRLs against
  for (const auto& [tp, c] : new_trusted) signers.push_back(c);
  for (const auto& [tp, c] : new_issuers) signers.push_back(c);
  for (const auto& row : *stored) {
    const bool replaced = (row.state == trust_state::trusted && lists.trusted_certificates) ||
                          (row.state == trust_state::issuer && lists.issuer_certificates);
    if (row.state == trust_state::rejected || replaced) continue;
    if (auto c = pki::certificate::from_der(row.der)) signers.push_back(std::move(c).value());
  }

  struct crl_in {
    pki::crl crl;
    trust_state list;
  };
  std::vector<crl_in> crls;
  for (const auto& [in, list, what] : {std::tuple{&lists.trusted_crls, trust_state::trusted, "TrustedCrls"},
                                       std::tuple{&lists.issuer_crls, trust_state::issuer, "IssuerCrls"}}) {
    if (!*in) continue;
    for (std::size_t i = 0; i < (*in)->size(); ++i) {
      auto c = pki::crl::from_der((**in)[i]);
      if (!c) {
        return make_error(status_code::BadCertificateInvalid, std::string(what) + "[" + std::to_string(i) + "] is not a DER CRL");
      }
      const bool signed_by_ca = std::any_of(signers.begin(), signers.end(), [&](const pki::certificate& ca) {
        return X509_NAME_cmp(X509_CRL_get_issuer(c->native()), X509_get_subject_name(ca.native())) == 0 && c->issued_by(ca);
      });
      if (!signed_by_ca) {
        return make_error(status_code::BadCertificateInvalid, std::string(what) + "[" + std::to_string(i) + "] from '" +
                                                                  c->issuer().text + "' is signed by no CA of the trust list");
      }
      crls.push_back({std::move(c).value(), list});
    }
  }

  change_report report;
  const sys_time now = clock_.now();
  auto outcome = store_.transact([&](store::transaction& tx) -> result<void> {
    // Removals first: what was in a replaced list and is in neither new list.
    for (const auto& row : *stored) {
      const bool replaced = (row.state == trust_state::trusted && lists.trusted_certificates) ||
                            (row.state == trust_state::issuer && lists.issuer_certificates);
      if (!replaced || new_trusted.contains(row.thumbprint) || new_issuers.contains(row.thumbprint)) continue;
      if (auto r = tx.delete_certificate(row.thumbprint); !r) return std::move(r).err();
      if (auto r = tx.append_audit(audit(who, "trust.remove", row.thumbprint, status_code::Good,
                                         "removed from " + list_name(row.state) + " by a trust list update (" + row.subject + ")"));
          !r) {
        return r;
      }
      report.removed.push_back(row.thumbprint);
    }
    for (const auto& [target, certs] : {std::pair{trust_state::trusted, &new_trusted}, std::pair{trust_state::issuer, &new_issuers}}) {
      for (const auto& [tp, cert] : *certs) {
        auto existing = tx.find_certificate(tp);
        if (!existing) return std::move(existing).err();
        if (*existing && (*existing)->state == target) {
          report.unchanged.push_back(tp);
          continue;
        }
        certificate_record row = make_certificate_record(cert, target, now);
        std::string detail = "added to " + list_name(target) + " by a trust list update";
        if (*existing) {
          detail = "moved from " + list_name((*existing)->state) + " to " + list_name(target) + " by a trust list update";
          row.first_attempt = (*existing)->first_attempt;
          row.last_attempt = (*existing)->last_attempt;
          row.attempts = (*existing)->attempts;
        }
        if (auto r = tx.put_certificate(row); !r) return r;
        if (auto r = tx.append_audit(audit(who, "trust.add", tp, status_code::Good, detail)); !r) return r;
        report.changed.push_back(std::move(row));
      }
    }
    std::set<std::string> kept_crls;
    for (const auto& in : crls) {
      auto row = make_crl_record(in.crl, in.list, now);
      kept_crls.insert(row.id);
      auto existing = tx.find_crl(row.id);
      if (!existing) return std::move(existing).err();
      if (*existing && (*existing)->list == in.list) continue;
      if (auto r = tx.put_crl(row); !r) return r;
      if (auto r = tx.append_audit(audit(who, "trust.crl.add", row.id, status_code::Good,
                                         "CRL of " + row.issuer + " in " + list_name(row.list) + " by a trust list update"));
          !r) {
        return r;
      }
      report.crls.push_back(std::move(row));
    }
    for (const auto& row : *stored_crls) {
      const bool replaced = (row.list == trust_state::trusted && lists.trusted_crls) || (row.list == trust_state::issuer && lists.issuer_crls);
      if (!replaced || kept_crls.contains(row.id)) continue;
      if (auto r = tx.delete_crl(row.id); !r) return std::move(r).err();
      if (auto r = tx.append_audit(audit(who, "trust.crl.remove", row.id, status_code::Good,
                                         "CRL of " + row.issuer + " removed from " + list_name(row.list) + " by a trust list update"));
          !r) {
        return r;
      }
      report.removed.push_back(row.id);
    }
    return {};
  });
  if (!outcome) return std::move(outcome).err();
  return report;
}

result<change_report> trust_service::remove_from_list(const std::string& thumbprint, trust_state list, const actor& who) {
  auto tp = normalize_thumbprint(thumbprint);
  if (!tp) return std::move(tp).err();
  auto crls = store_.list_crls();
  if (!crls) return std::move(crls).err();
  change_report report;
  auto outcome = store_.transact([&](store::transaction& tx) -> result<void> {
    auto existing = tx.find_certificate(*tp);
    if (!existing) return std::move(existing).err();
    if (!*existing || (*existing)->state != list) {
      return make_error(status_code::BadNotFound, *tp + " is not in " + list_name(list));
    }
    if (auto r = tx.delete_certificate(*tp); !r) return std::move(r).err();
    if (auto r = tx.append_audit(audit(who, "trust.remove", *tp, status_code::Good,
                                       "removed from " + list_name(list) + " (" + (*existing)->subject + ")"));
        !r) {
      return r;
    }
    report.removed.push_back(*tp);
    auto cert = pki::certificate::from_der((*existing)->der);
    if (!cert || !cert->basic_constraints().ca) return {};
    for (const auto& row : *crls) {
      auto c = pki::crl::from_der(row.der);
      if (!c || X509_NAME_cmp(X509_CRL_get_issuer(c->native()), X509_get_subject_name(cert->native())) != 0 || !c->issued_by(*cert)) {
        continue;
      }
      if (auto r = tx.delete_crl(row.id); !r) return std::move(r).err();
      if (auto r = tx.append_audit(audit(who, "trust.crl.remove", row.id, status_code::Good,
                                         "CRL of " + row.issuer + " removed with its CA " + *tp));
          !r) {
        return r;
      }
      report.removed.push_back(row.id);
    }
    return {};
  });
  if (!outcome) return std::move(outcome).err();
  return report;
}

result<sys_time> trust_service::last_change() {
  auto revision = store_.trust_revision();
  if (!revision) return std::move(revision).err();
  std::lock_guard lock(last_change_mutex_);
  if (last_change_ && last_change_->first == *revision) return last_change_->second;
  sys_time latest{};
  auto certs = store_.list_certificates(std::nullopt);
  if (!certs) return std::move(certs).err();
  for (const auto& row : *certs) {
    if (row.state != trust_state::rejected) latest = std::max(latest, row.added_at);
  }
  auto crls = store_.list_crls();
  if (!crls) return std::move(crls).err();
  for (const auto& row : *crls) latest = std::max(latest, row.added_at);
  // Removals leave no row behind; their audit records say when.
  for (const char* action : {"trust.remove", "trust.reject", "trust.crl.remove"}) {
    store::audit_filter filter;
    filter.action = action;
    filter.limit = 1;
    auto newest = store_.list_audit(filter);
    if (!newest) return std::move(newest).err();
    if (!newest->empty()) latest = std::max(latest, newest->front().time);
  }
  last_change_ = std::pair{*revision, latest};
  return latest;
}

}  // namespace castellan::trust
