#include "app/authz_services.h"

#include <algorithm>

#include "app/own_certificate.h"
#include "core/files.h"
#include "pki/builder.h"

namespace castellan::app {

namespace {

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
  });
}

}  // namespace

result<store::authz_service_record> create_authz_service(const config& c, store::store& store, const clock& clk,
                                                         new_authz_service spec, const std::string& actor) {
  if (!valid_name(spec.name)) {
    return make_error(status_code::BadInvalidArgument, "service name '" + spec.name + "': use 1-64 letters, digits, '-' or '_'");
  }
  const auto algorithm = authz::parse_jws_algorithm(spec.algorithm);
  if (!algorithm) return make_error(status_code::BadInvalidArgument, "algorithm '" + spec.algorithm + "': use ES256, RS256 or PS256");
  if (spec.service_uri.empty()) spec.service_uri = c.application_uri + ":authz:" + spec.name;
  if (spec.resources.empty()) spec.resources.push_back(c.application_uri);
  if (spec.token_lifetime_s < 60 || spec.token_lifetime_s > 24 * 3600) {
    return make_error(status_code::BadInvalidArgument, "token lifetime must be 60 s to 24 h");
  }
  if (spec.refresh_lifetime_s < spec.token_lifetime_s || spec.refresh_lifetime_s > 365 * 24 * 3600) {
    return make_error(status_code::BadInvalidArgument, "refresh token lifetime must be from the token lifetime to 365 days");
  }
  auto existing = store.authz().list_services();
  if (!existing) return existing.err();
  for (const auto& s : *existing) {
    if (s.name == spec.name || s.service_uri == spec.service_uri) {
      return make_error(status_code::BadBrowseNameDuplicated, "an AuthorizationService named " + s.name + " with ServiceUri " +
                                                                  s.service_uri + " exists");
    }
  }

  auto key = *algorithm == authz::jws_algorithm::es256 ? pki::private_key::generate(pki::key_spec::ec_p256)
                                                        : pki::private_key::generate(pki::key_spec::rsa3072);
  if (!key) return key.err();
  pki::certificate_profile profile;
  profile.subject.common_name = "castellan AuthorizationService " + spec.name;
  profile.subject.organization = "castellan";
  profile.san_uris = {spec.service_uri};
  profile.not_before = clk.now() - std::chrono::hours(1);
  profile.not_after = clk.now() + std::chrono::days(5 * 365);
  profile.basic_constraints = pki::basic_constraints_facts{true, true, false, std::nullopt};
  profile.key_usage = pki::ku_digital_signature;
  auto cert = pki::build_certificate(profile, key->native(), nullptr, *key);
  if (!cert) return cert.err();

  store::authz_service_record record;
  record.name = spec.name;
  record.service_uri = spec.service_uri;
  record.algorithm = std::string(authz::jws_algorithm_name(*algorithm));
  record.key_file = "authz/" + spec.name + "/private/key.pem";
  record.certificate_file = "authz/" + spec.name + "/cert.pem";
  record.token_lifetime_s = spec.token_lifetime_s;
  record.refresh_lifetime_s = spec.refresh_lifetime_s;
  record.resources = spec.resources;
  record.created_at = clk.now();
  if (auto w = write_pair(*cert, *key, c.data_dir / record.certificate_file, c.data_dir / record.key_file); !w) return w.err();

  store::audit_record a;
  a.time = clk.now();
  a.node = c.node_name;
  a.actor = actor;
  a.action = "authz.service_add";
  a.target = spec.name;
  a.result = "Good";
  a.detail = "ServiceUri " + spec.service_uri + ", " + record.algorithm + ", key " + cert->thumbprint();
  auto stored = store.transact([&](store::transaction& tx) -> result<void> {
    auto inserted = tx.authz().insert_service(record);
    if (!inserted) return inserted.err();
    if (!*inserted) return make_error(status_code::BadBrowseNameDuplicated, "the service exists");
    return tx.append_audit(a);
  });
  if (!stored) {
    std::error_code ec;
    std::filesystem::remove_all(c.data_dir / "authz" / spec.name, ec);
    return stored.err();
  }
  return record;
}

result<std::vector<authz::service_keys>> load_authz_services(const config& c, store::store& store) {
  auto records = store.authz().list_services();
  if (!records) return records.err();
  std::vector<authz::service_keys> out;
  for (auto& r : *records) {
    auto pair = load_pair(c.data_dir / r.certificate_file, c.data_dir / r.key_file);
    if (!pair) return make_error(pair.code(), "AuthorizationService " + r.name + ": " + pair.err().message);
    const auto algorithm = authz::parse_jws_algorithm(r.algorithm);
    if (!algorithm) return make_error(status_code::BadConfigurationError, "AuthorizationService " + r.name + ": algorithm " + r.algorithm);
    authz::service_keys k{std::move(r), *algorithm, std::move(pair->key), {}};
    k.chain.push_back(std::move(pair->cert));
    out.push_back(std::move(k));
  }
  return out;
}

result<void> ensure_default_authz_service(const config& c, store::store& store, const clock& clk) {
  auto records = store.authz().list_services();
  if (!records) return records.err();
  if (!records->empty()) return {};
  new_authz_service spec;
  spec.name = "default";
  auto created = create_authz_service(c, store, clk, spec, "system");
  if (!created) return created.err();
  return {};
}

}  // namespace castellan::app
