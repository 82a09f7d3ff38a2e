#pragma once
// The registry's part of the store interface. A backend implements both halves: writes inside
// store::transact (with the audit record in the same transaction), reads outside it.

#include <optional>
#include <string>
#include <vector>

#include "store/registry_records.h"

namespace castellan::store {

class registry_transaction {
 public:
  virtual ~registry_transaction() = default;
  virtual result<std::optional<ca_record>> find_ca(const std::string& id) = 0;
  virtual result<std::vector<ca_record>> list_cas() = 0;
  virtual result<void> put_ca(const ca_record& ca) = 0;
  virtual result<bool> delete_ca(const std::string& id) = 0;
  // Devices issued by the CA that are not revoked.
  virtual result<std::int64_t> count_live_devices(const std::string& ca_id) = 0;

  virtual result<std::optional<device_record>> find_device(const std::string& id) = 0;
  // The non-revoked device whose effective client ID this is, if any.
  virtual result<std::optional<device_record>> find_live_device_by_client_id(const std::string& client_id) = 0;
  // Insert only: false when a device with this id already exists (never registered twice).
  virtual result<bool> insert_device(const device_record& device) = 0;
  virtual result<void> update_device_status(const std::string& id, device_status status, sys_time when) = 0;
  virtual result<bool> delete_device(const std::string& id) = 0;
  virtual result<void> record_client(const device_client& seen) = 0;

  // One-time proof-of-possession codes for CA registration.
  virtual result<void> put_registration_code(const std::string& code, sys_time expires) = 0;
  // True, and the code is spent, when it existed and had not expired.
  virtual result<bool> take_registration_code(const std::string& code, sys_time now) = 0;
};

// What changed in the registry after a revision: caches evict exactly these.
struct registry_change_set {
  std::uint64_t revision = 0;  // the newest revision included
  std::vector<std::string> device_ids;
  std::vector<std::string> ca_ids;
  bool too_many = false;  // more than a cache should evict one by one: drop everything
};

class registry_reader {
 public:
  virtual ~registry_reader() = default;
  virtual result<std::vector<ca_record>> list_cas() = 0;
  virtual result<std::optional<ca_record>> find_ca(const std::string& id) = 0;
  virtual result<std::optional<device_record>> find_device(const std::string& id) = 0;
  virtual result<device_page> search_devices(const device_filter& filter, sys_time now) = 0;
  virtual result<std::vector<device_client>> device_clients(const std::string& device_id) = 0;
  // Changes whenever a device or CA changes anywhere, in any process (caches poll it).
  virtual result<std::uint64_t> registry_revision() = 0;
  virtual result<registry_change_set> changes_since(std::uint64_t revision) = 0;
};

}  // namespace castellan::store
