#pragma once
// The rows castellan keeps. Plain values: the store reads and writes them, services decide.

#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/result.h"

namespace castellan::store {

// Which trust list a certificate or CRL belongs to (the OPC UA PKI folders).
enum class trust_state { trusted, issuer, rejected };
std::string_view trust_state_name(trust_state s);
result<trust_state> parse_trust_state(std::string_view text);

struct certificate_record {
  std::string thumbprint;  // SHA-1, upper hex: the key
  std::string sha256;
  trust_state state = trust_state::trusted;
  bytes der;
  std::string subject;
  std::string issuer;
  std::string serial;
  std::string application_uri;  // first SAN URI, if any
  sys_time not_before{};
  sys_time not_after{};
  sys_time added_at{};
  // Rejected list bookkeeping: when the certificate was first and last presented, how often.
  std::optional<sys_time> first_attempt;
  std::optional<sys_time> last_attempt;
  std::int64_t attempts = 0;
};

struct crl_record {
  std::string id;  // SHA-1 of the DER, upper hex
  trust_state list = trust_state::trusted;  // trusted or issuer
  bytes der;
  std::string issuer;
  sys_time this_update{};
  std::optional<sys_time> next_update;
  sys_time added_at{};
};

// One append-only audit record: every state change and every security decision.
struct audit_record {
  std::int64_t id = 0;  // assigned by the store
  sys_time time{};
  std::string node;    // which castellan node wrote it
  std::string actor;   // who: a user, "cli:<unix user>", "ua:<client thumbprint>", "system"
  std::string source;  // from where: an address, "local"
  std::string action;  // e.g. "trust.approve", "trust.admit"
  std::string target;  // what: usually a thumbprint
  std::string result;  // a StatusCode name
  std::string detail;  // a human sentence or a small JSON object
};

struct audit_filter {
  std::optional<sys_time> since;
  std::optional<sys_time> until;
  std::string actor;   // exact match when not empty
  std::string action;  // prefix match when not empty
  std::string target;  // exact match when not empty
  std::string result;  // exact match when not empty
  std::int64_t before_id = 0;  // paging: only records with id < before_id (0: newest)
  std::int64_t after_id = 0;   // following the log: only records with id > after_id (0: all)
  std::size_t limit = 100;
};

}  // namespace castellan::store
