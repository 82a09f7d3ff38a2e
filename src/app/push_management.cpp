#include "app/push_management.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "app/own_certificate.h"
#include "pki/builder.h"
#include "pki/encoding.h"

namespace castellan::app {

namespace {

// Namespace 0 nodes of Part 12 (Opc.Ua.NodeSet2.xml).
namespace id {
constexpr std::uint32_t server_configuration = 12637, server_configuration_type = 12581;
constexpr std::uint32_t application_uri = 25706, product_uri = 25725, application_type = 25707;
constexpr std::uint32_t server_capabilities = 12710, supported_private_key_formats = 12639, max_trust_list_size = 12640,
                        multicast_dns_enabled = 12641, has_secure_element = 23597;
constexpr std::uint32_t update_certificate = 13737, apply_changes = 12740, create_signing_request = 12737,
                        get_rejected_list = 12777, get_certificates = 32296;
constexpr std::uint32_t default_application_group = 14156, default_application_group_certificate_types = 14161;
constexpr std::uint32_t default_user_token_group_certificate_types = 14155;
constexpr std::uint32_t rsa_sha256_application_certificate_type = 12560, rsa_min_application_certificate_type = 12559,
                        application_certificate_type = 12557;
// DefaultApplicationGroup.TrustList and its FileType / TrustListType members.
namespace tl {
constexpr std::uint32_t size = 12643, writable = 14157, user_writable = 14158, open_count = 12646, open = 12647,
                        close = 12650, read = 12652, write = 12655, get_position = 12657, set_position = 12660,
                        last_update_time = 12662, open_with_masks = 12663, close_and_update = 12666,
                        add_certificate = 12668, remove_certificate = 12670;
}
// DefaultUserTokenGroup.TrustList: castellan has no user trust list yet (X509 user tokens are
// refused), so this one is empty and not writable.
namespace user_tl {
constexpr std::uint32_t size = 14124, writable = 14125, user_writable = 14126, open_count = 14127, last_update_time = 14144;
}
}  // namespace id

ua::node_id ns0(std::uint32_t n) { return ua::node_id::numeric(n); }

ua::date_time to_date_time(sys_time t) {
  // 100 ns ticks since 1601-01-01; 11644473600 s lie between that and the Unix epoch.
  return ua::date_time{(static_cast<std::int64_t>(t.time_since_epoch().count()) + 11'644'473'600LL) * 10'000'000LL};
}

ua::call_method_result with_status(status_code code) {
  ua::call_method_result r;
  r.status_code = code;
  return r;
}

ua::call_method_result failed(const error& e, const char* what) {
  spdlog::info("opc.tcp {}: {} ({})", what, status_name(e.code), e.message);
  return with_status(e.code);
}

// Part 12 §7.10: SecurityAdmin, and only over an encrypted channel.
std::optional<status_code> refuse(const ua::session_context& who) {
  if (who.security_mode != ua::message_security_mode::sign_and_encrypt) return status_code::BadSecurityModeInsufficient;
  if (std::find(who.roles.begin(), who.roles.end(), "SecurityAdmin") == who.roles.end()) return status_code::BadUserAccessDenied;
  return std::nullopt;
}

// A handler that runs `body` only for those allowed.
ua::method_handler admin_only(std::function<ua::call_method_result(const std::vector<ua::variant>&, const ua::session_context&)> body) {
  return [body = std::move(body)](const std::vector<ua::variant>& in, const ua::session_context& who) {
    if (auto code = refuse(who)) return with_status(*code);
    return body(in, who);
  };
}

template <class T>
const T* arg(const std::vector<ua::variant>& in, std::size_t i) {
  return i < in.size() ? in[i].get_if<T>() : nullptr;
}

// A ByteString argument: a null one (the client sent no value) reads as empty.
bytes byte_string_arg(const std::vector<ua::variant>& in, std::size_t i) {
  if (const auto* b = arg<bytes>(in, i)) return *b;
  return {};
}

std::vector<bytes> byte_string_array_arg(const std::vector<ua::variant>& in, std::size_t i) {
  std::vector<bytes> out;
  if (i >= in.size() || !in[i].is_array) return out;
  for (const auto& v : in[i].values) {
    if (const auto* b = std::get_if<bytes>(&v)) out.push_back(*b);
  }
  return out;
}

ua::variant byte_strings(std::vector<bytes> items) { return ua::variant::array(std::move(items), ua::builtin_type::byte_string); }

// CertificateGroupId: null means the DefaultApplicationGroup (Part 12 §7.10.4).
bool is_application_group(const ua::node_id* group) {
  return group == nullptr || group->is_null() || *group == ns0(id::default_application_group);
}

bool is_rsa_application_type(const ua::node_id* type) {
  return type == nullptr || type->is_null() || *type == ns0(id::rsa_sha256_application_certificate_type) ||
         *type == ns0(id::rsa_min_application_certificate_type) || *type == ns0(id::application_certificate_type);
}

}  // namespace

result<pki::subject_fields> parse_subject_name(std::string_view text) {
  pki::subject_fields out;
  // Either "/CN=a/O=b" (the form OpenSSL prints) or "CN=a, O=b" (RFC 4514 style).
  const char separator = !text.empty() && text.front() == '/' ? '/' : ',';
  std::size_t at = 0;
  bool any = false;
  while (at <= text.size()) {
    auto end = text.find(separator, at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(at, end - at);
    at = end + 1;
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == part.size()) {
      return make_error(status_code::BadInvalidArgument, "subject name part '" + std::string(part) + "' is not KEY=value");
    }
    std::string key(part.substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::string value(part.substr(eq + 1));
    std::string* field = key == "CN"   ? &out.common_name
                         : key == "O"  ? &out.organization
                         : key == "OU" ? &out.organizational_unit
                         : key == "C"  ? &out.country
                         : key == "ST" ? &out.state
                         : key == "L"  ? &out.locality
                         : key == "DC" ? &out.domain_component
                                       : nullptr;
    if (!field) return make_error(status_code::BadInvalidArgument, "subject name key '" + key + "' is not supported");
    *field = std::move(value);
    any = true;
  }
  if (!any) return make_error(status_code::BadInvalidArgument, "empty subject name");
  return out;
}

// A key made by CreateSigningRequest (RegeneratePrivateKey) waiting for its certificate, and a
// certificate UpdateCertificate stored that ApplyChanges has not yet put in force.
struct push_management::pending {
  std::optional<pki::private_key> new_key;
  std::shared_ptr<const ua::own_identity> update;
};

push_management::push_management(push_management_options options, trust::trust_service& trust, store::store& store,
                                 const clock& clk, std::shared_ptr<const ua::own_identity> identity)
    : options_(std::move(options)),
      trust_(trust),
      store_(store),
      clock_(clk),
      current_(std::move(identity)),
      file_(options_.trust_list, [this] { return current_lists(); }),
      pending_(std::make_unique<pending>()) {}

push_management::~push_management() = default;

trust::actor push_management::actor_of(const ua::session_context& who) const {
  return trust::actor{who.user.empty() ? std::string("anonymous") : who.user, "opc.tcp"};
}

result<ua::trust_list_data_type> push_management::current_lists() {
  ua::trust_list_data_type lists;
  lists.specified_lists = ua::trust_list_mask::all;
  auto certs = trust_.list(std::nullopt);
  if (!certs) return std::move(certs).err();
  for (auto& row : *certs) {
    if (row.state == store::trust_state::trusted) lists.trusted_certificates.push_back(std::move(row.der));
    if (row.state == store::trust_state::issuer) lists.issuer_certificates.push_back(std::move(row.der));
  }
  auto crls = trust_.list_crls();
  if (!crls) return std::move(crls).err();
  for (auto& row : *crls) {
    (row.list == store::trust_state::issuer ? lists.issuer_crls : lists.trusted_crls).push_back(std::move(row.der));
  }
  return lists;
}

result<void> push_management::install(ua::address_space& nodes, ua::session_manager& sessions) {
  sessions.add_close_listener([this](const ua::session& s) { file_.session_closed(s.session_id); });

  auto set = [&](std::uint32_t node, ua::variant value) -> result<void> { return nodes.set_value(ns0(node), std::move(value)); };
  auto source = [&](std::uint32_t node, ua::value_source s) -> result<void> { return nodes.set_value_source(ns0(node), std::move(s)); };
  auto method = [&](std::uint32_t node, ua::method_handler h) -> result<void> { return nodes.set_method_handler(ns0(node), std::move(h)); };
  auto value_of = [](ua::variant v) {
    ua::data_value d;
    d.value = std::move(v);
    d.source_timestamp = ua::date_time::now();
    return d;
  };
  auto error_value = [](status_code code) {
    ua::data_value d;
    d.status = code;
    return d;
  };

  std::vector<result<void>> steps;
  // ServerConfiguration's properties (Part 12 §7.10.3). No capability identifiers of Part 12
  // Annex D apply to castellan, hence "NA"; private keys travel as PEM only (PFX would need a
  // password the method does not carry).
  steps.push_back(set(id::server_capabilities, ua::variant::array(std::vector<std::string>{"NA"}, ua::builtin_type::string)));
  steps.push_back(set(id::supported_private_key_formats, ua::variant::array(std::vector<std::string>{"PEM"}, ua::builtin_type::string)));
  steps.push_back(set(id::max_trust_list_size, ua::variant::scalar(static_cast<std::uint32_t>(options_.trust_list.max_size))));
  steps.push_back(set(id::multicast_dns_enabled, ua::variant::scalar(false)));
  steps.push_back(set(id::has_secure_element, ua::variant::scalar(false)));
  steps.push_back(set(id::application_uri, ua::variant::scalar(options_.application_uri)));
  steps.push_back(set(id::product_uri, ua::variant::scalar(options_.product_uri)));
  steps.push_back(set(id::application_type, ua::variant::scalar(static_cast<std::int32_t>(ua::application_type::server))));
  steps.push_back(set(id::default_application_group_certificate_types,
                      ua::variant::array(std::vector<ua::node_id>{ns0(id::rsa_sha256_application_certificate_type)},
                                         ua::builtin_type::node_id)));
  steps.push_back(set(id::default_user_token_group_certificate_types,
                      ua::variant::array(std::vector<ua::node_id>{}, ua::builtin_type::node_id)));

  // The TrustList's properties, computed on every read so a change from any edge shows.
  steps.push_back(source(id::tl::size, [this, value_of, error_value] {
    auto lists = current_lists();
    if (!lists) return error_value(lists.code());
    return value_of(ua::variant::scalar(static_cast<std::uint64_t>(ua::encode_trust_list(*lists).size())));
  }));
  steps.push_back(set(id::tl::writable, ua::variant::scalar(true)));
  // True for the only users who may call its methods (SecurityAdmins on encrypted channels);
  // the value is the same for every session, the methods check who calls.
  steps.push_back(set(id::tl::user_writable, ua::variant::scalar(true)));
  steps.push_back(source(id::tl::open_count, [this, value_of] { return value_of(ua::variant::scalar(file_.open_count())); }));
  steps.push_back(source(id::tl::last_update_time, [this, value_of, error_value] {
    auto when = trust_.last_change();
    if (!when) return error_value(when.code());
    return value_of(ua::variant::scalar(to_date_time(*when)));
  }));
  steps.push_back(set(id::user_tl::size, ua::variant::scalar(std::uint64_t{0})));
  steps.push_back(set(id::user_tl::writable, ua::variant::scalar(false)));
  steps.push_back(set(id::user_tl::user_writable, ua::variant::scalar(false)));
  steps.push_back(set(id::user_tl::open_count, ua::variant::scalar(std::uint16_t{0})));
  steps.push_back(set(id::user_tl::last_update_time, ua::variant::scalar(ua::date_time{})));

  // FileType methods (Part 5 §C.3) on the TrustList.
  steps.push_back(method(id::tl::open, admin_only([this](const auto& in, const auto& who) {
    const auto* mode = arg<std::uint8_t>(in, 0);
    auto handle = file_.open(who.session_id, mode ? *mode : std::uint8_t{0});
    if (!handle) return failed(handle.err(), "TrustList.Open");
    ua::call_method_result r;
    r.output_arguments.push_back(ua::variant::scalar(*handle));
    return r;
  })));
  steps.push_back(method(id::tl::open_with_masks, admin_only([this](const auto& in, const auto& who) {
    const auto* masks = arg<std::uint32_t>(in, 0);
    auto handle = file_.open(who.session_id, ua::file_open_mode::read, masks ? *masks : 0);
    if (!handle) return failed(handle.err(), "TrustList.OpenWithMasks");
    ua::call_method_result r;
    r.output_arguments.push_back(ua::variant::scalar(*handle));
    return r;
  })));
  steps.push_back(method(id::tl::read, admin_only([this](const auto& in, const auto& who) {
    const auto* handle = arg<std::uint32_t>(in, 0);
    const auto* length = arg<std::int32_t>(in, 1);
    auto data = file_.read(who.session_id, handle ? *handle : 0, length ? *length : -1);
    if (!data) return failed(data.err(), "TrustList.Read");
    ua::call_method_result r;
    r.output_arguments.push_back(ua::variant::scalar(std::move(*data)));
    return r;
  })));
  steps.push_back(method(id::tl::write, admin_only([this](const auto& in, const auto& who) {
    const auto* handle = arg<std::uint32_t>(in, 0);
    const bytes data = byte_string_arg(in, 1);
    auto written = file_.write(who.session_id, handle ? *handle : 0, data);
    if (!written) return failed(written.err(), "TrustList.Write");
    return with_status(status_code::Good);
  })));
  steps.push_back(method(id::tl::get_position, admin_only([this](const auto& in, const auto& who) {
    const auto* handle = arg<std::uint32_t>(in, 0);
    auto position = file_.get_position(who.session_id, handle ? *handle : 0);
    if (!position) return failed(position.err(), "TrustList.GetPosition");
    ua::call_method_result r;
    r.output_arguments.push_back(ua::variant::scalar(*position));
    return r;
  })));
  steps.push_back(method(id::tl::set_position, admin_only([this](const auto& in, const auto& who) {
    const auto* handle = arg<std::uint32_t>(in, 0);
    const auto* position = arg<std::uint64_t>(in, 1);
    auto moved = file_.set_position(who.session_id, handle ? *handle : 0, position ? *position : 0);
    if (!moved) return failed(moved.err(), "TrustList.SetPosition");
    return with_status(status_code::Good);
  })));
  steps.push_back(method(id::tl::close, admin_only([this](const auto& in, const auto& who) {
    const auto* handle = arg<std::uint32_t>(in, 0);
    auto closed = file_.close(who.session_id, handle ? *handle : 0);
    if (!closed) return failed(closed.err(), "TrustList.Close");
    return with_status(status_code::Good);
  })));
  steps.push_back(method(id::tl::close_and_update, admin_only([this](const auto& in, const auto& who) {
    const auto* handle = arg<std::uint32_t>(in, 0);
    auto lists = file_.close_and_update(who.session_id, handle ? *handle : 0);
    if (!lists) return failed(lists.err(), "TrustList.CloseAndUpdate");
    trust::trust_list_replacement replacement;
    const auto mask = lists->specified_lists;
    if (mask & ua::trust_list_mask::trusted_certificates) replacement.trusted_certificates = std::move(lists->trusted_certificates);
    if (mask & ua::trust_list_mask::trusted_crls) replacement.trusted_crls = std::move(lists->trusted_crls);
    if (mask & ua::trust_list_mask::issuer_certificates) replacement.issuer_certificates = std::move(lists->issuer_certificates);
    if (mask & ua::trust_list_mask::issuer_crls) replacement.issuer_crls = std::move(lists->issuer_crls);
    auto report = trust_.replace_lists(replacement, actor_of(who));
    if (!report) return failed(report.err(), "TrustList.CloseAndUpdate");
    if (options_.after_trust_change) options_.after_trust_change();
    spdlog::info("opc.tcp {}: trust list replaced ({} added or moved, {} CRLs added, {} removed)", who.user,
                 report->changed.size(), report->crls.size(), report->removed.size());
    ua::call_method_result r;
    // Trust decisions read the store's newest lists on the next connection: nothing to apply.
    r.output_arguments.push_back(ua::variant::scalar(false));
    return r;
  })));
  steps.push_back(method(id::tl::add_certificate, admin_only([this](const auto& in, const auto& who) {
    if (file_.writer_open()) return with_status(status_code::BadInvalidState);
    const bytes certificate = byte_string_arg(in, 0);
    const auto* is_trusted = arg<bool>(in, 1);
    if (certificate.empty() || !is_trusted) return with_status(status_code::BadInvalidArgument);
    if (!pki::certificate::from_der(certificate)) return with_status(status_code::BadCertificateInvalid);
    auto added = trust_.add({{"AddCertificate", certificate}}, *is_trusted ? store::trust_state::trusted : store::trust_state::issuer,
                            actor_of(who));
    if (!added) return failed(added.err(), "TrustList.AddCertificate");
    if (options_.after_trust_change) options_.after_trust_change();
    return with_status(status_code::Good);
  })));
  steps.push_back(method(id::tl::remove_certificate, admin_only([this](const auto& in, const auto& who) {
    if (file_.writer_open()) return with_status(status_code::BadInvalidState);
    const auto* thumbprint = arg<std::string>(in, 0);
    const auto* is_trusted = arg<bool>(in, 1);
    if (!thumbprint || !is_trusted) return with_status(status_code::BadInvalidArgument);
    const auto list = *is_trusted ? store::trust_state::trusted : store::trust_state::issuer;
    auto removed = trust_.remove_from_list(*thumbprint, list, actor_of(who));
    // Part 12 §7.8.2.5: a thumbprint that is not in the list named answers BadInvalidArgument.
    if (!removed && removed.code() == status_code::BadNotFound) {
      spdlog::info("opc.tcp TrustList.RemoveCertificate: {}", removed.err().message);
      return with_status(status_code::BadInvalidArgument);
    }
    if (!removed) return failed(removed.err(), "TrustList.RemoveCertificate");
    if (options_.after_trust_change) options_.after_trust_change();
    return with_status(status_code::Good);
  })));

  // ServerConfiguration's methods (Part 12 §7.10.4 – §7.10.9).
  steps.push_back(method(id::update_certificate, admin_only([this](const auto& in, const auto& who) { return update_certificate(in, who); })));
  steps.push_back(method(id::create_signing_request,
                         admin_only([this](const auto& in, const auto& who) { return create_signing_request(in, who); })));
  steps.push_back(method(id::apply_changes, admin_only([this](const auto&, const auto& who) { return apply_changes(who); })));
  steps.push_back(method(id::get_rejected_list, admin_only([this](const auto&, const auto&) {
    auto rejected = trust_.list(store::trust_state::rejected);
    if (!rejected) return failed(rejected.err(), "GetRejectedList");
    std::vector<bytes> certificates;
    for (auto& record : *rejected) certificates.push_back(std::move(record.der));
    ua::call_method_result r;
    r.output_arguments.push_back(byte_strings(std::move(certificates)));
    return r;
  })));
  // GetCertificates is declared on ServerConfigurationType (optional) and called on the instance.
  steps.push_back(method(id::get_certificates, admin_only([this](const auto& in, const auto&) {
    if (!is_application_group(arg<ua::node_id>(in, 0))) return with_status(status_code::BadInvalidArgument);
    const auto identity = current_.load();
    ua::call_method_result r;
    r.output_arguments.push_back(ua::variant::array(std::vector<ua::node_id>{ns0(id::rsa_sha256_application_certificate_type)},
                                                    ua::builtin_type::node_id));
    r.output_arguments.push_back(byte_strings({identity->certificate_der}));
    return r;
  })));
  (void)id::server_configuration;
  (void)id::server_configuration_type;

  for (auto& step : steps) {
    if (!step) return std::move(step).err();
  }
  return {};
}

ua::call_method_result push_management::update_certificate(const std::vector<ua::variant>& in, const ua::session_context& who) {
  if (!is_application_group(arg<ua::node_id>(in, 0))) return with_status(status_code::BadInvalidArgument);
  if (!is_rsa_application_type(arg<ua::node_id>(in, 1))) return with_status(status_code::BadInvalidArgument);
  auto cert = pki::certificate::from_der(byte_string_arg(in, 2));
  if (!cert) return with_status(status_code::BadCertificateInvalid);
  std::vector<pki::certificate> issuers;
  for (const auto& der : byte_string_array_arg(in, 3)) {
    auto issuer = pki::certificate::from_der(der);
    if (!issuer) return with_status(status_code::BadCertificateInvalid);
    issuers.push_back(std::move(issuer).value());
  }
  const auto* format = arg<std::string>(in, 4);
  const bytes key_data = byte_string_arg(in, 5);

  // The certificate must be usable as this server's: its ApplicationUri, an RSA key the
  // policies accept, valid now, and signed by itself or by an issuer given with it.
  const auto uris = cert->san_uris();
  if (std::find(uris.begin(), uris.end(), options_.application_uri) == uris.end()) {
    spdlog::info("opc.tcp UpdateCertificate: {} does not name {}", cert->thumbprint(), options_.application_uri);
    return with_status(status_code::BadCertificateUriInvalid);
  }
  const auto key_facts = cert->public_key();
  if (key_facts.algorithm != pki::key_algorithm::rsa || key_facts.bits < 2048 || key_facts.bits > 4096) {
    return with_status(status_code::BadCertificatePolicyCheckFailed);
  }
  const auto now = clock_.now();
  if (cert->not_before() > now || cert->not_after() < now) return with_status(status_code::BadCertificateTimeInvalid);
  const bool self_signed = cert->signature_verifies_with(*cert);
  const bool chained = std::any_of(issuers.begin(), issuers.end(), [&](const pki::certificate& ca) { return cert->signature_verifies_with(ca); });
  if (!self_signed && !chained) return with_status(status_code::BadCertificateChainIncomplete);

  std::lock_guard lock(pending_mutex_);
  std::optional<pki::private_key> key;
  if (!key_data.empty() || (format && !format->empty())) {
    if (!format || *format != "PEM") {
      spdlog::info("opc.tcp UpdateCertificate: private key format '{}' is not supported (PEM is)", format ? *format : "");
      return with_status(status_code::BadNotSupported);
    }
    auto parsed = pki::private_key::from_pem_or_der(key_data, "UpdateCertificate PrivateKey");
    if (!parsed) return with_status(status_code::BadSecurityChecksFailed);
    key = std::move(parsed).value();
  } else if (pending_->new_key && pending_->new_key->matches(*cert)) {
    key = std::move(pending_->new_key);  // the key CreateSigningRequest made for this certificate
    pending_->new_key.reset();
  } else {
    // The same key as now: the certificate was requested with RegeneratePrivateKey false.
    auto same = pki::private_key::from_pem_or_der(
        [&] {
          const auto pem = current_.load()->key.to_pem();
          return bytes(pem.begin(), pem.end());
        }(),
        "current key");
    if (same) key = std::move(same).value();
  }
  if (!key || !key->matches(*cert)) return with_status(status_code::BadSecurityChecksFailed);

  if (auto written = replace_own_certificate(options_.data_dir, *cert, issuers, *key, store_, actor_of(who), options_.node_name, now);
      !written) {
    return failed(written.err(), "UpdateCertificate");
  }
  bytes chain = cert->der();
  for (const auto& issuer : issuers) {
    const bytes der = issuer.der();
    chain.insert(chain.end(), der.begin(), der.end());
  }
  auto identity = std::make_shared<ua::own_identity>(ua::own_identity{*cert, std::move(*key), cert->der(), std::move(chain)});
  pending_->update = std::move(identity);
  spdlog::info("opc.tcp {}: new server certificate {} stored; ApplyChanges puts it in force", who.user, cert->thumbprint());
  ua::call_method_result r;
  r.output_arguments.push_back(ua::variant::scalar(true));  // ApplyChangesRequired
  return r;
}

ua::call_method_result push_management::create_signing_request(const std::vector<ua::variant>& in, const ua::session_context& who) {
  if (!is_application_group(arg<ua::node_id>(in, 0))) return with_status(status_code::BadInvalidArgument);
  if (!is_rsa_application_type(arg<ua::node_id>(in, 1))) return with_status(status_code::BadInvalidArgument);
  const auto* subject_name = arg<std::string>(in, 2);
  const auto* regenerate = arg<bool>(in, 3);
  const bytes nonce = byte_string_arg(in, 4);
  const auto identity = current_.load();

  pki::subject_fields subject;
  if (subject_name && !subject_name->empty()) {
    auto parsed = parse_subject_name(*subject_name);
    if (!parsed) return failed(parsed.err(), "CreateSigningRequest");
    subject = std::move(parsed).value();
  } else {
    const auto current = identity->certificate.subject();
    subject = {current.common_name, current.organization, current.organizational_unit, current.country,
               current.state,       current.locality,     current.domain_component};
  }
  std::lock_guard lock(pending_mutex_);
  std::optional<pki::private_key> fresh;
  if (regenerate && *regenerate) {
    // The client's nonce is extra entropy for the new key (Part 12 §7.10.6), never the only one.
    if (!nonce.empty()) RAND_add(nonce.data(), static_cast<int>(nonce.size()), 0.0);
    const int bits = std::max(2048, identity->certificate.public_key().bits);
    auto key = pki::private_key::generate_rsa(static_cast<unsigned>(bits));
    if (!key) return failed(key.err(), "CreateSigningRequest");
    fresh = std::move(key).value();
  }
  const pki::private_key& signer = fresh ? *fresh : identity->key;
  auto csr = pki::signing_request::create(subject, signer, identity->certificate.san_uris(), identity->certificate.san_dns_names());
  if (!csr) return failed(csr.err(), "CreateSigningRequest");
  bytes der = csr->to_der();
  if (der.empty()) return with_status(status_code::BadInternalError);
  if (fresh) pending_->new_key = std::move(fresh);
  spdlog::info("opc.tcp {}: certificate signing request for '{}' ({} key)", who.user, subject.common_name,
               pending_->new_key ? "new" : "current");
  ua::call_method_result r;
  r.output_arguments.push_back(ua::variant::scalar(std::move(der)));
  return r;
}

ua::call_method_result push_management::apply_changes(const ua::session_context& who) {
  std::shared_ptr<const ua::own_identity> update;
  {
    std::lock_guard lock(pending_mutex_);
    update = std::move(pending_->update);
    pending_->update.reset();
  }
  if (!update) return with_status(status_code::Good);  // nothing waits to be applied
  const auto previous = current_.load();
  const auto detail = "server certificate " + update->certificate.thumbprint() + " in force for new connections (was " +
                      (previous ? previous->certificate.thumbprint() : std::string("none")) + ")";
  // Audited first: no change without its record.
  auto audited = store_.transact([&](store::transaction& tx) {
    return tx.append_audit(trust::make_audit_record(clock_.now(), options_.node_name, actor_of(who), "own.certificate.apply",
                                                    update->certificate.thumbprint(), status_code::Good, detail));
  });
  if (!audited) {
    std::lock_guard lock(pending_mutex_);
    if (!pending_->update) pending_->update = update;
    return failed(audited.err(), "ApplyChanges");
  }
  // Channels opened with the previous certificate keep it (they hold it) until they close.
  current_.store(update);
  spdlog::info("opc.tcp {}: {}", who.user, detail);
  return with_status(status_code::Good);
}

}  // namespace castellan::app
