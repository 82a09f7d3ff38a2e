#pragma once
// OPC UA push certificate management (Part 12 §7.10) on castellan's OPC UA edge: the
// ServerConfiguration object's properties, the DefaultApplicationGroup's TrustList as a file,
// UpdateCertificate, CreateSigningRequest, GetCertificates, ApplyChanges and GetRejectedList.
//
// Every method is for sessions that hold SecurityAdmin on a SignAndEncrypt channel
// (BadSecurityModeInsufficient on other channels, BadUserAccessDenied for other users). Every
// change goes through the trust service or replace_own_certificate(), the same operations the
// CLI and the admin API use, with the same audit records.

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "pki/builder.h"
#include "pki/private_key.h"
#include "store/store.h"
#include "trust/trust_service.h"
#include "ua/server/address_space.h"
#include "ua/server/session_manager.h"
#include "ua/server/trust_list_file.h"
#include "ua/transport/server_channel.h"

namespace castellan::app {

struct push_management_options {
  std::filesystem::path data_dir;  // own/ lives here
  std::string node_name;           // for audit records
  std::string application_uri;
  std::string product_uri;
  ua::trust_list_file_limits trust_list;
  // Called after every trust list change (the pki/ folder mirror, as after CLI and API changes).
  std::function<void()> after_trust_change;
};

class push_management {
 public:
  push_management(push_management_options options, trust::trust_service& trust, store::store& store, const clock& clk,
                  std::shared_ptr<const ua::own_identity> identity);
  ~push_management();
  push_management(const push_management&) = delete;
  push_management& operator=(const push_management&) = delete;

  // Sets the ServerConfiguration values and method handlers, and frees a session's trust list
  // handles when it closes. `nodes` and `sessions` must outlive this object's use by them.
  result<void> install(ua::address_space& nodes, ua::session_manager& sessions);

  // What new secure channels use; ApplyChanges replaces it.
  std::shared_ptr<const ua::own_identity> identity() const { return current_.load(); }

  const ua::trust_list_file& trust_list_file() const { return file_; }

 private:
  struct pending;
  ua::call_method_result update_certificate(const std::vector<ua::variant>& in, const ua::session_context& who);
  ua::call_method_result create_signing_request(const std::vector<ua::variant>& in, const ua::session_context& who);
  ua::call_method_result apply_changes(const ua::session_context& who);
  result<ua::trust_list_data_type> current_lists();
  trust::actor actor_of(const ua::session_context& who) const;

  push_management_options options_;
  trust::trust_service& trust_;
  store::store& store_;
  const clock& clock_;
  std::atomic<std::shared_ptr<const ua::own_identity>> current_;
  ua::trust_list_file file_;

  std::mutex pending_mutex_;
  std::unique_ptr<pending> pending_;
};

// "CN=castellan, O=Plant" or "/CN=castellan/O=Plant" → fields (CN, O, OU, C, ST, L, DC);
// BadInvalidArgument for anything else.
result<pki::subject_fields> parse_subject_name(std::string_view text);

}  // namespace castellan::app
