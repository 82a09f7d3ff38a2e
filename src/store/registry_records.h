#pragma once
// Rows of the device registry: registered CA certificates, one certificate per device, and
// the clients seen with each certificate.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/result.h"

namespace castellan::store {

// The four statuses fleet operators know from cloud MQTT consoles.
enum class device_status { activated, not_activated, registered_not_activated, revoked };
std::string_view device_status_name(device_status s);  // "activated", "not-activated", …
result<device_status> parse_device_status(std::string_view text);

struct ca_record {
  std::string id;  // SHA-1 thumbprint of the CA certificate
  bytes der;
  std::string subject;
  std::string common_name;
  std::string serial;
  sys_time not_before{};
  sys_time not_after{};
  bool active = true;
  bool auto_registration = true;  // devices it issued may register themselves on first connect
  bool require_approval = false;  // …and then wait as "registered but not activated"
  bool verified = false;          // proof of possession was shown at registration
  sys_time registered_at{};
};

struct device_record {
  std::string id;  // SHA-1 thumbprint of the device certificate
  std::string sha256;
  std::string ca_id;
  bytes der;
  std::string common_name;
  std::string organizational_unit;
  std::string organization;
  std::string serial;
  std::string client_id;            // registered client ID ("" when none)
  std::string effective_client_id;  // client_id, or the CN when empty: unique among non-revoked
  device_status status = device_status::activated;
  std::string registration;  // "auto" or "manual"
  sys_time not_before{};
  sys_time not_after{};
  sys_time registered_at{};
  sys_time status_changed_at{};
};

// A client seen with a certificate: the client ID it presented, when, from where, on which edge.
struct device_client {
  std::string device_id;
  std::string client_id;
  sys_time first_seen{};
  sys_time last_seen{};
  std::string remote_address;
  std::string edge;
  std::int64_t connections = 0;
};

// automatic: see resolved_sort below.
enum class device_sort { automatic, registered_at, not_after, not_before, common_name, serial };

struct device_filter {
  std::string serial;               // exact (hex, case-insensitive)
  std::string organizational_unit;  // exact
  std::string common_name;          // exact, or prefix when it ends with '*'
  std::string client_id;            // effective client ID, exact
  std::string ca_id;
  std::optional<device_status> status;
  std::optional<sys_time> effective_from, effective_to;    // not_before range
  std::optional<sys_time> expires_from, expires_to;        // not_after range
  bool expired = false;                                    // not_after < now
  std::optional<int> expiring_within_days;                 // now ≤ not_after ≤ now + days
  device_sort sort = device_sort::automatic;
  bool descending = true;
  std::size_t limit = 50;
  std::size_t offset = 0;
};

// The order a search is sorted in, automatic resolved (by expiry when filtering by expiry, by
// start of validity when filtering by it, else by registration), and the column that carries
// it. Both stores sort by this column and break ties by the row's key in the same direction,
// so a page is a walk along one index, not a sort.
device_sort resolved_sort(const device_filter& f);
std::string_view sort_column_name(device_sort s);

// Counting every match of a broad filter over a million rows would cost more than the page
// itself, so the count stops here; past it the total reads "more than".
inline constexpr std::size_t k_search_count_limit = 10000;

struct device_page {
  std::vector<device_record> items;
  std::size_t total = 0;      // matches, up to k_search_count_limit
  bool total_exact = true;    // false: more than k_search_count_limit match
};

}  // namespace castellan::store
