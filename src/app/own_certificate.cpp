#include "app/own_certificate.h"

#include "core/files.h"
#include "pki/builder.h"
#include "pki/encoding.h"

namespace castellan::app {
namespace fs = std::filesystem;

own_paths own_paths::in(const fs::path& data_dir) {
  const fs::path dir = data_dir / "own";
  return {dir, dir / "cert.pem", dir / "cert.der", dir / "private" / "key.pem"};
}

ca_paths ca_paths::in(const fs::path& data_dir) {
  const fs::path dir = data_dir / "ca";
  return {dir, dir / "ca.pem", dir / "private" / "ca.key.pem"};
}

result<key_pair> load_pair(const fs::path& cert_path, const fs::path& key_path) {
  auto cert_data = read_file(cert_path);
  if (!cert_data) return std::move(cert_data).err();
  auto certs = pki::parse_certificates(*cert_data, cert_path.string());
  if (!certs) return std::move(certs).err();
  auto key_data = read_file(key_path);
  if (!key_data) return std::move(key_data).err();
  auto key = pki::private_key::from_pem_or_der(*key_data, key_path.string());
  if (!key) return std::move(key).err();
  if (!key->matches(certs->front())) {
    return make_error(status_code::BadCertificateInvalid, key_path.string() + " is not the key of " + cert_path.string());
  }
  return key_pair{certs->front(), std::move(key).value()};
}

result<void> write_pair(const pki::certificate& cert, const pki::private_key& key, const fs::path& cert_path,
                        const fs::path& key_path) {
  if (!cert_path.parent_path().empty()) {
    if (auto r = ensure_directory(cert_path.parent_path(), 0755); !r) return r;
  }
  if (!key_path.parent_path().empty()) {
    if (auto r = ensure_directory(key_path.parent_path(), 0700); !r) return r;
  }
  // The key first: a certificate without its key is useless, a key without its certificate harmless.
  if (auto r = write_file_atomic(key_path, key.to_pem(), 0600); !r) return r;
  return write_file_atomic(cert_path, cert.to_pem(), 0644);
}

result<key_pair> ensure_own_certificate(const config& c, const clock& clk, pki::key_spec spec, bool& created) {
  const auto paths = own_paths::in(c.data_dir);
  created = false;
  std::error_code ec;
  if (fs::exists(paths.cert, ec) && fs::exists(paths.key, ec)) {
    return load_pair(paths.cert, paths.key);
  }
  auto key = pki::private_key::generate(spec);
  if (!key) return std::move(key).err();
  const std::string host = c.host_names.empty() ? std::string("localhost") : c.host_names.front();
  auto profile = pki::application_instance_profile(c.application_uri, c.host_names,
                                                   {.common_name = "castellan@" + host, .organization = "castellan"},
                                                   clk.now(), 5 * 365);
  auto cert = pki::build_certificate(profile, key->native(), nullptr, *key);
  if (!cert) return std::move(cert).err();
  if (auto r = ensure_directory(paths.dir, 0755); !r) return std::move(r).err();
  if (auto r = write_pair(*cert, *key, paths.cert, paths.key); !r) return std::move(r).err();
  const bytes der = cert->der();
  if (auto r = write_file_atomic(paths.der, std::string(der.begin(), der.end()), 0644); !r) return std::move(r).err();
  created = true;
  return key_pair{std::move(cert).value(), std::move(key).value()};
}

}  // namespace castellan::app

namespace castellan::app {

result<void> replace_own_certificate(const fs::path& data_dir, const pki::certificate& cert,
                                     const std::vector<pki::certificate>& issuers, const pki::private_key& key,
                                     store::store& store, const trust::actor& who, const std::string& node, sys_time now) {
  const auto paths = own_paths::in(data_dir);
  std::string pem = cert.to_pem();
  for (const auto& issuer : issuers) pem += issuer.to_pem();
  const bytes der = cert.der();
  std::string detail = "server certificate " + cert.thumbprint() + " (" + cert.subject().text + ", until " +
                       std::to_string(cert.not_after().time_since_epoch().count()) + ")";
  if (!issuers.empty()) detail += " issued by " + issuers.front().subject().text;
  return store.transact([&](store::transaction& tx) -> result<void> {
    if (auto r = tx.append_audit(trust::make_audit_record(now, node, who, "own.certificate.update", cert.thumbprint(),
                                                          status_code::Good, detail));
        !r) {
      return r;
    }
    if (auto r = ensure_directory(paths.dir, 0755); !r) return r;
    if (auto r = ensure_directory(paths.key.parent_path(), 0700); !r) return r;
    // The key first: a certificate without its key is useless, a key without its certificate harmless.
    if (auto r = write_file_atomic(paths.key, key.to_pem(), 0600); !r) return r;
    if (auto r = write_file_atomic(paths.cert, pem, 0644); !r) return r;
    return write_file_atomic(paths.der, std::string(der.begin(), der.end()), 0644);
  });
}

result<std::vector<pki::certificate>> load_own_issuers(const fs::path& data_dir) {
  const auto paths = own_paths::in(data_dir);
  auto data = read_file(paths.cert);
  if (!data) return std::move(data).err();
  auto certs = pki::parse_certificates(*data, paths.cert.string());
  if (!certs) return std::move(certs).err();
  certs->erase(certs->begin());
  return std::move(certs).value();
}

}  // namespace castellan::app
