#include "pki/certificate.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include <cstring>
#include <ctime>

namespace castellan::pki {
namespace {

std::string digest_hex(X509* x, const EVP_MD* md) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x, md, buf, &len) != 1) {
    take_openssl_errors();
    return {};
  }
  return to_hex(byte_view(buf, len));
}

std::string asn1_string_utf8(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) {
    take_openssl_errors();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::string name_entry(const X509_NAME* name, int nid) {
  const int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) {
    return {};
  }
  const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, idx);
  return asn1_string_utf8(X509_NAME_ENTRY_get_data(e));
}

template <typename Pick>
std::vector<std::string> collect_sans(X509* x, Pick pick) {
  std::vector<std::string> out;
  general_names_ptr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) {
    return out;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    pick(gn, out);
  }
  return out;
}

std::string ia5(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

}  // namespace

sys_time to_sys_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    take_openssl_errors();
    return sys_time{};
  }
  return sys_time{std::chrono::seconds{timegm(&tm)}};
}

distinguished_name describe_name(const X509_NAME* name) {
  distinguished_name dn;
  if (name == nullptr) {
    return dn;
  }
  dn.common_name = name_entry(name, NID_commonName);
  dn.organization = name_entry(name, NID_organizationName);
  dn.organizational_unit = name_entry(name, NID_organizationalUnitName);
  dn.country = name_entry(name, NID_countryName);
  dn.state = name_entry(name, NID_stateOrProvinceName);
  dn.locality = name_entry(name, NID_localityName);
  dn.domain_component = name_entry(name, NID_domainComponent);
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (bio && X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    dn.text.assign(data, static_cast<std::size_t>(len));
  }
  return dn;
}

std::vector<std::string> key_usage_names(std::uint32_t bits) {
  static constexpr std::pair<std::uint32_t, const char*> k_names[] = {
      {ku_digital_signature, "digitalSignature"}, {ku_non_repudiation, "nonRepudiation"},
      {ku_key_encipherment, "keyEncipherment"},   {ku_data_encipherment, "dataEncipherment"},
      {ku_key_agreement, "keyAgreement"},         {ku_key_cert_sign, "keyCertSign"},
      {ku_crl_sign, "cRLSign"},                   {ku_encipher_only, "encipherOnly"},
      {ku_decipher_only, "decipherOnly"},
  };
  std::vector<std::string> out;
  for (const auto& [bit, name] : k_names) {
    if ((bits & bit) != 0) {
      out.emplace_back(name);
    }
  }
  return out;
}

std::string_view key_algorithm_name(key_algorithm a) {
  switch (a) {
    case key_algorithm::rsa: return "RSA";
    case key_algorithm::ec: return "EC";
    case key_algorithm::ed25519: return "Ed25519";
    case key_algorithm::ed448: return "Ed448";
    case key_algorithm::other: break;
  }
  return "other";
}

certificate::certificate(x509_ptr x509) : x509_(std::move(x509)) {
  thumbprint_ = digest_hex(x509_.get(), EVP_sha1());
}

certificate::certificate(const certificate& other) : thumbprint_(other.thumbprint_) {
  X509_up_ref(other.x509_.get());
  x509_.reset(other.x509_.get());
}

certificate& certificate::operator=(const certificate& other) {
  if (this != &other) {
    X509_up_ref(other.x509_.get());
    x509_.reset(other.x509_.get());
    thumbprint_ = other.thumbprint_;
  }
  return *this;
}

result<certificate> certificate::from_der(byte_view der) {
  if (der.empty()) {
    return make_error(status_code::BadCertificateInvalid, "empty certificate");
  }
  const unsigned char* p = der.data();
  x509_ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) {
    return make_error(status_code::BadCertificateInvalid,
                      "not a DER X.509 certificate (" + take_openssl_errors() + ")");
  }
  if (p != der.data() + der.size()) {
    return make_error(status_code::BadCertificateInvalid, "trailing bytes after the DER certificate");
  }
  return certificate(std::move(x));
}

certificate certificate::adopt(x509_ptr x509) { return certificate(std::move(x509)); }

bytes certificate::der() const {
  bytes out = to_der<X509>(i2d_X509, x509_.get());
  if (out.empty()) take_openssl_errors();
  return out;
}

std::string certificate::to_pem() const {
  std::string out = pki::to_pem<X509>(PEM_write_bio_X509, x509_.get());
  if (out.empty()) take_openssl_errors();
  return out;
}

std::string certificate::sha256_hex() const { return digest_hex(x509_.get(), EVP_sha256()); }

std::string certificate::serial_hex() const {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x509_.get());
  bignum_ptr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    take_openssl_errors();
    return {};
  }
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

distinguished_name certificate::subject() const { return describe_name(X509_get_subject_name(x509_.get())); }
distinguished_name certificate::issuer() const { return describe_name(X509_get_issuer_name(x509_.get())); }

std::vector<std::string> certificate::san_uris() const {
  return collect_sans(x509_.get(), [](const GENERAL_NAME* gn, std::vector<std::string>& out) {
    if (gn->type == GEN_URI) out.push_back(ia5(gn->d.uniformResourceIdentifier));
  });
}

std::vector<std::string> certificate::san_dns_names() const {
  return collect_sans(x509_.get(), [](const GENERAL_NAME* gn, std::vector<std::string>& out) {
    if (gn->type == GEN_DNS) out.push_back(ia5(gn->d.dNSName));
  });
}

std::vector<std::string> certificate::san_ip_addresses() const {
  return collect_sans(x509_.get(), [](const GENERAL_NAME* gn, std::vector<std::string>& out) {
    if (gn->type != GEN_IPADD) return;
    const int len = ASN1_STRING_length(gn->d.iPAddress);
    const unsigned char* data = ASN1_STRING_get0_data(gn->d.iPAddress);
    char text[INET6_ADDRSTRLEN] = {};
    if (len == 4 && inet_ntop(AF_INET, data, text, sizeof text) != nullptr) {
      out.emplace_back(text);
    } else if (len == 16 && inet_ntop(AF_INET6, data, text, sizeof text) != nullptr) {
      out.emplace_back(text);
    }
  });
}

sys_time certificate::not_before() const { return to_sys_time(X509_get0_notBefore(x509_.get())); }
sys_time certificate::not_after() const { return to_sys_time(X509_get0_notAfter(x509_.get())); }

std::optional<std::uint32_t> certificate::key_usage_bits() const {
  // X509_get_key_usage returns UINT32_MAX when the extension is absent.
  if ((X509_get_extension_flags(x509_.get()) & EXFLAG_KUSAGE) == 0) {
    return std::nullopt;
  }
  const std::uint32_t raw = X509_get_key_usage(x509_.get());
  std::uint32_t bits = 0;
  if (raw & KU_DIGITAL_SIGNATURE) bits |= ku_digital_signature;
  if (raw & KU_NON_REPUDIATION) bits |= ku_non_repudiation;
  if (raw & KU_KEY_ENCIPHERMENT) bits |= ku_key_encipherment;
  if (raw & KU_DATA_ENCIPHERMENT) bits |= ku_data_encipherment;
  if (raw & KU_KEY_AGREEMENT) bits |= ku_key_agreement;
  if (raw & KU_KEY_CERT_SIGN) bits |= ku_key_cert_sign;
  if (raw & KU_CRL_SIGN) bits |= ku_crl_sign;
  if (raw & KU_ENCIPHER_ONLY) bits |= ku_encipher_only;
  if (raw & KU_DECIPHER_ONLY) bits |= ku_decipher_only;
  return bits;
}

std::optional<std::vector<std::string>> certificate::extended_key_usage() const {
  extended_key_usage_ptr eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x509_.get(), NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    const ASN1_OBJECT* obj = sk_ASN1_OBJECT_value(eku.get(), i);
    const int nid = OBJ_obj2nid(obj);
    if (nid != NID_undef) {
      out.emplace_back(OBJ_nid2sn(nid));
    } else {
      char buf[80];
      OBJ_obj2txt(buf, sizeof buf, obj, 1);
      out.emplace_back(buf);
    }
  }
  return out;
}

basic_constraints_facts certificate::basic_constraints() const {
  basic_constraints_facts facts;
  int critical = -1;
  basic_constraints_ptr bc(
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x509_.get(), NID_basic_constraints, &critical, nullptr)));
  if (!bc) {
    return facts;
  }
  facts.present = true;
  facts.critical = critical == 1;
  facts.ca = bc->ca != 0;
  if (bc->pathlen != nullptr) {
    facts.path_length = ASN1_INTEGER_get(bc->pathlen);
  }
  return facts;
}

std::string certificate::subject_key_id_hex() const {
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(x509_.get());
  if (skid == nullptr) {
    return {};
  }
  return to_hex(byte_view(ASN1_STRING_get0_data(skid), static_cast<std::size_t>(ASN1_STRING_length(skid))));
}

std::string certificate::authority_key_id_hex() const {
  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(x509_.get());
  if (akid == nullptr) {
    return {};
  }
  return to_hex(byte_view(ASN1_STRING_get0_data(akid), static_cast<std::size_t>(ASN1_STRING_length(akid))));
}

public_key_facts certificate::public_key() const {
  public_key_facts facts;
  EVP_PKEY* key = X509_get0_pubkey(x509_.get());  // borrowed
  if (key == nullptr) {
    take_openssl_errors();
    return facts;
  }
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS: facts.algorithm = key_algorithm::rsa; break;
    case EVP_PKEY_EC: {
      facts.algorithm = key_algorithm::ec;
      char curve[64] = {};
      std::size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &len) == 1) {
        facts.curve.assign(curve, len);
      }
      break;
    }
    case EVP_PKEY_ED25519: facts.algorithm = key_algorithm::ed25519; break;
    case EVP_PKEY_ED448: facts.algorithm = key_algorithm::ed448; break;
    default: facts.algorithm = key_algorithm::other; break;
  }
  facts.bits = EVP_PKEY_get_bits(key);
  return facts;
}

std::string certificate::signature_algorithm() const {
  const int nid = X509_get_signature_nid(x509_.get());
  return nid == NID_undef ? std::string("unknown") : std::string(OBJ_nid2ln(nid));
}

std::string certificate::signature_digest() const {
  int md_nid = NID_undef;
  int pk_nid = NID_undef;
  if (OBJ_find_sigid_algs(X509_get_signature_nid(x509_.get()), &md_nid, &pk_nid) != 1) {
    // RSASSA-PSS carries its digest in the parameters.
    int sec_bits = 0;
    uint32_t flags = 0;
    if (X509_get_signature_info(x509_.get(), &md_nid, &pk_nid, &sec_bits, &flags) != 1) {
      take_openssl_errors();
      return {};
    }
  }
  if (md_nid == NID_undef) {
    return {};
  }
  return std::string(OBJ_nid2sn(md_nid));
}

bool certificate::is_self_issued() const {
  return X509_NAME_cmp(X509_get_subject_name(x509_.get()), X509_get_issuer_name(x509_.get())) == 0;
}

bool certificate::is_self_signed() const { return is_self_issued() && signature_verifies_with(*this); }

bool certificate::names_issuer(const certificate& issuer) const {
  if (X509_NAME_cmp(X509_get_issuer_name(x509_.get()), X509_get_subject_name(issuer.x509_.get())) != 0) {
    return false;
  }
  const std::string akid = authority_key_id_hex();
  const std::string skid = issuer.subject_key_id_hex();
  return akid.empty() || skid.empty() || akid == skid;
}

bool certificate::signature_verifies_with(const certificate& issuer) const {
  EVP_PKEY* key = X509_get0_pubkey(issuer.x509_.get());  // borrowed
  if (key == nullptr) {
    take_openssl_errors();
    return false;
  }
  const int rc = X509_verify(x509_.get(), key);
  if (rc != 1) {
    take_openssl_errors();
  }
  return rc == 1;
}

}  // namespace castellan::pki
