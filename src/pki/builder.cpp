#include "pki/builder.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

namespace castellan::pki {
namespace {

asn1_time_ptr to_asn1_time(sys_time t) {
  return asn1_time_ptr(ASN1_TIME_set(nullptr, static_cast<time_t>(t.time_since_epoch().count())));
}

result<x509_name_ptr> make_name(const subject_fields& s) {
  x509_name_ptr name(X509_NAME_new());
  if (!name) {
    return make_error(status_code::BadOutOfMemory, "out of memory");
  }
  const std::pair<const char*, const std::string*> fields[] = {
      {"DC", &s.domain_component}, {"C", &s.country},  {"ST", &s.state},         {"L", &s.locality},
      {"O", &s.organization},      {"OU", &s.organizational_unit}, {"CN", &s.common_name},
  };
  for (const auto& [key, value] : fields) {
    if (value->empty()) {
      continue;
    }
    if (X509_NAME_add_entry_by_txt(name.get(), key, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->c_str()), -1, -1, 0) != 1) {
      return make_error(status_code::BadInvalidArgument,
                        std::string("subject ") + key + " '" + *value + "' is not valid: " + take_openssl_errors());
    }
  }
  return name;
}

result<void> add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  x509_extension_ptr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return make_error(status_code::BadInvalidArgument,
                      std::string(OBJ_nid2sn(nid)) + " '" + value + "': " + take_openssl_errors());
  }
  return {};
}

std::string key_usage_text(std::uint32_t bits, bool critical) {
  std::string text = critical ? "critical" : "";
  for (const auto& name : key_usage_names(bits)) {
    if (!text.empty()) text += ",";
    text += name;
  }
  return text;
}

std::string join(const std::vector<std::string>& items, const std::string& prefix) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ",";
    out += prefix + item;
  }
  return out;
}

const EVP_MD* digest_for(const std::string& name, EVP_PKEY* signer) {
  const int id = EVP_PKEY_get_base_id(signer);
  if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) {
    return nullptr;  // pure EdDSA signs without a separate digest
  }
  return EVP_get_digestbyname(name.c_str());
}

}  // namespace

certificate_profile application_instance_profile(const std::string& application_uri,
                                                 const std::vector<std::string>& host_names,
                                                 const subject_fields& subject, sys_time now, int days) {
  certificate_profile p;
  p.subject = subject;
  p.san_uris = {application_uri};
  for (const auto& host : host_names) {
    // An address goes into the IP SAN, a name into DNS (Part 6 §6.2.2).
    if (host.find_first_not_of("0123456789.") == std::string::npos || host.find(':') != std::string::npos) {
      p.san_ip_addresses.push_back(host);
    } else {
      p.san_dns_names.push_back(host);
    }
  }
  p.not_before = now - std::chrono::hours(1);  // tolerate small clock skew between peers
  p.not_after = now + std::chrono::days(days);
  p.basic_constraints = basic_constraints_facts{true, true, false, std::nullopt};
  p.key_usage = ku_digital_signature | ku_non_repudiation | ku_key_encipherment | ku_data_encipherment | ku_key_cert_sign;
  p.extended_key_usage = {"serverAuth", "clientAuth"};
  return p;
}

certificate_profile ca_profile(const subject_fields& subject, sys_time now, int days, std::optional<long> path_length) {
  certificate_profile p;
  p.subject = subject;
  p.not_before = now - std::chrono::hours(1);
  p.not_after = now + std::chrono::days(days);
  p.basic_constraints = basic_constraints_facts{true, true, true, path_length};
  p.key_usage = ku_key_cert_sign | ku_crl_sign;
  return p;
}

certificate_profile client_profile(const subject_fields& subject, sys_time now, int days) {
  certificate_profile p;
  p.subject = subject;
  p.not_before = now - std::chrono::hours(1);
  p.not_after = now + std::chrono::days(days);
  p.basic_constraints = basic_constraints_facts{true, true, false, std::nullopt};
  p.key_usage = ku_digital_signature;
  p.extended_key_usage = {"clientAuth"};
  return p;
}

result<certificate> build_certificate(const certificate_profile& profile, EVP_PKEY* subject_key,
                                      const certificate* issuer, const private_key& signer) {
  x509_ptr cert(X509_new());
  if (!cert || subject_key == nullptr) {
    return make_error(status_code::BadInvalidArgument, "no subject key");
  }
  if (profile.not_after <= profile.not_before) {
    return make_error(status_code::BadInvalidArgument, "validity ends before it begins");
  }
  X509_set_version(cert.get(), X509_VERSION_3);

  bytes serial = profile.serial;
  if (serial.empty()) {
    serial.resize(16);
    if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) {
      return make_error(status_code::BadInternalError, "no randomness: " + take_openssl_errors());
    }
    serial[0] &= 0x7F;  // positive
    serial[0] |= 0x01;  // and exactly 16 bytes long
  }
  bignum_ptr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return make_error(status_code::BadInternalError, "serial: " + take_openssl_errors());
  }

  auto name = make_name(profile.subject);
  if (!name) {
    return std::move(name).err();
  }
  X509_set_subject_name(cert.get(), name->get());
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer->native()) : name->get());
  auto nb = to_asn1_time(profile.not_before);
  auto na = to_asn1_time(profile.not_after);
  if (!nb || !na || X509_set1_notBefore(cert.get(), nb.get()) != 1 || X509_set1_notAfter(cert.get(), na.get()) != 1) {
    return make_error(status_code::BadInvalidArgument, "validity: " + take_openssl_errors());
  }
  if (X509_set_pubkey(cert.get(), subject_key) != 1) {
    return make_error(status_code::BadInvalidArgument, "public key: " + take_openssl_errors());
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->native() : cert.get(), cert.get(), nullptr, nullptr, 0);

  if (profile.basic_constraints) {
    const auto& bc = *profile.basic_constraints;
    std::string text = bc.critical ? "critical," : "";
    text += bc.ca ? "CA:TRUE" : "CA:FALSE";
    if (bc.ca && bc.path_length) text += ",pathlen:" + std::to_string(*bc.path_length);
    if (auto r = add_extension(cert.get(), &ctx, NID_basic_constraints, text); !r) return std::move(r).err();
  }
  if (profile.key_usage != 0) {
    if (auto r = add_extension(cert.get(), &ctx, NID_key_usage, key_usage_text(profile.key_usage, profile.key_usage_critical)); !r)
      return std::move(r).err();
  }
  if (!profile.extended_key_usage.empty()) {
    if (auto r = add_extension(cert.get(), &ctx, NID_ext_key_usage, join(profile.extended_key_usage, "")); !r)
      return std::move(r).err();
  }
  std::string san = join(profile.san_uris, "URI:");
  for (const auto& part : {join(profile.san_dns_names, "DNS:"), join(profile.san_ip_addresses, "IP:")}) {
    if (!part.empty()) san += (san.empty() ? "" : ",") + part;
  }
  if (!san.empty()) {
    if (auto r = add_extension(cert.get(), &ctx, NID_subject_alt_name, san); !r) return std::move(r).err();
  }
  if (auto r = add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash"); !r) return std::move(r).err();
  if (issuer != nullptr || profile.basic_constraints.has_value()) {
    if (auto r = add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"); !r) return std::move(r).err();
  }

  const EVP_MD* md = digest_for(profile.digest, signer.native());
  if (md == nullptr && EVP_PKEY_get_base_id(signer.native()) != EVP_PKEY_ED25519 &&
      EVP_PKEY_get_base_id(signer.native()) != EVP_PKEY_ED448) {
    return make_error(status_code::BadInvalidArgument, "unknown digest '" + profile.digest + "'");
  }
  if (X509_sign(cert.get(), signer.native(), md) <= 0) {
    return make_error(status_code::BadInternalError, "signing failed: " + take_openssl_errors());
  }
  return certificate::adopt(std::move(cert));
}

result<signing_request> signing_request::parse(byte_view data, const std::string& source) {
  bio_ptr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  x509_req_ptr req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!req) {
    take_openssl_errors();
    const unsigned char* p = data.data();
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!req) {
    take_openssl_errors();
    return make_error(status_code::BadDecodingError, source + ": not a PEM or DER certificate signing request");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr || X509_REQ_verify(req.get(), key) != 1) {
    take_openssl_errors();
    return make_error(status_code::BadSecurityChecksFailed, source + ": the request's signature does not verify");
  }
  return signing_request(std::move(req));
}

result<signing_request> signing_request::create(const subject_fields& subject, const private_key& key,
                                                const std::vector<std::string>& san_uris,
                                                const std::vector<std::string>& san_dns_names) {
  x509_req_ptr req(X509_REQ_new());
  auto name = make_name(subject);
  if (!name) return std::move(name).err();
  if (!req || X509_REQ_set_subject_name(req.get(), name->get()) != 1 || X509_REQ_set_pubkey(req.get(), key.native()) != 1) {
    return make_error(status_code::BadInternalError, "CSR: " + take_openssl_errors());
  }
  std::string san = join(san_uris, "URI:");
  if (const auto dns = join(san_dns_names, "DNS:"); !dns.empty()) san += (san.empty() ? "" : ",") + dns;
  if (!san.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
    x509_extension_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str()));
    STACK_OF(X509_EXTENSION)* extensions = sk_X509_EXTENSION_new_null();
    const bool added = ext && extensions && sk_X509_EXTENSION_push(extensions, ext.get()) > 0 &&
                       X509_REQ_add_extensions(req.get(), extensions) == 1;
    sk_X509_EXTENSION_free(extensions);  // the stack only; ext is still owned by its pointer
    if (!added) return make_error(status_code::BadInvalidArgument, "CSR subjectAltName '" + san + "': " + take_openssl_errors());
  }
  if (X509_REQ_sign(req.get(), key.native(), EVP_sha256()) <= 0) {
    return make_error(status_code::BadInternalError, "CSR: " + take_openssl_errors());
  }
  return signing_request(std::move(req));
}

EVP_PKEY* signing_request::public_key() const { return X509_REQ_get0_pubkey(req_.get()); }

distinguished_name signing_request::subject() const { return describe_name(X509_REQ_get_subject_name(req_.get())); }

bytes signing_request::to_der() const {
  unsigned char* der = nullptr;
  const int n = i2d_X509_REQ(req_.get(), &der);
  if (n <= 0) {
    take_openssl_errors();
    return {};
  }
  bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string signing_request::to_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req_.get()) != 1) {
    take_openssl_errors();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

result<crl> build_crl(const certificate& ca, const private_key& ca_key, const std::vector<std::string>& revoked_serials_hex,
                      sys_time this_update, sys_time next_update, long crl_number) {
  x509_crl_ptr out(X509_CRL_new());
  if (!out || X509_CRL_set_version(out.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(out.get(), X509_get_subject_name(ca.native())) != 1) {
    return make_error(status_code::BadInternalError, "CRL: " + take_openssl_errors());
  }
  auto lu = to_asn1_time(this_update);
  auto nu = to_asn1_time(next_update);
  X509_CRL_set1_lastUpdate(out.get(), lu.get());
  X509_CRL_set1_nextUpdate(out.get(), nu.get());
  for (const auto& hex : revoked_serials_hex) {
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, hex.c_str()) == 0) {
      return make_error(status_code::BadInvalidArgument, "serial '" + hex + "' is not hex");
    }
    bignum_ptr bn(raw);
    x509_revoked_ptr entry(X509_REVOKED_new());
    asn1_integer_ptr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!entry || !serial || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), lu.get()) != 1) {
      return make_error(status_code::BadInternalError, "CRL entry: " + take_openssl_errors());
    }
    if (X509_CRL_add0_revoked(out.get(), entry.get()) != 1) {
      return make_error(status_code::BadInternalError, "CRL entry: " + take_openssl_errors());
    }
    entry.release();  // now owned by the CRL
  }
  asn1_integer_ptr number(ASN1_INTEGER_new());
  ASN1_INTEGER_set(number.get(), crl_number);
  X509_CRL_add1_ext_i2d(out.get(), NID_crl_number, number.get(), 0, 0);
  X509_CRL_sort(out.get());
  const EVP_MD* md = digest_for("SHA256", ca_key.native());
  if (X509_CRL_sign(out.get(), ca_key.native(), md) <= 0) {
    return make_error(status_code::BadInternalError, "CRL signing: " + take_openssl_errors());
  }
  return crl::adopt(std::move(out));
}

}  // namespace castellan::pki
