#pragma once
// castellan's OPC UA address space: the nodes of the standard information models (loaded from
// the generated tables in src/ua/nodeset) plus castellan's own, with all their attributes and
// references (every reference is held from both ends, so inverse browsing works), and the
// sans-I/O logic of the services over them: Browse, BrowseNext, TranslateBrowsePathsToNodeIds,
// Read, Write and the method checks of Call (Part 4 §5.8, §5.10, §5.11).
//
// Namespaces: 0 = http://opcfoundation.org/UA/, 1 = urn:castellan:nodes (castellan's own
// nodes), then the models loaded after (GDS is 2 in create_standard()).
//
// Thread safety: every public member may be called from any thread (a shared_mutex: reads,
// browses and calls share it, writes and additions take it alone). Value sources and the
// permission predicates run under that lock and must not call back into the address space;
// value sinks and method handlers run without it and may. A continuation_store passed to the
// one-operation calls belongs to the caller, who keeps it to one thread at a time.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "ua/binary/builtin_types.h"
#include "ua/types/generated.h"

namespace castellan::ua {

namespace nodeset {
struct table;
}
struct session;

inline constexpr const char* ua_namespace_uri = "http://opcfoundation.org/UA/";
inline constexpr const char* castellan_namespace_uri = "urn:castellan:nodes";
inline constexpr const char* gds_namespace_uri = "http://opcfoundation.org/UA/GDS/";
inline constexpr std::uint16_t castellan_namespace = 1;

// Attribute ids (Part 6 §A.1).
enum class attribute : std::uint32_t {
  node_id = 1, node_class, browse_name, display_name, description, write_mask, user_write_mask, is_abstract,
  symmetric, inverse_name, contains_no_loops, event_notifier, value, data_type, value_rank, array_dimensions,
  access_level, user_access_level, minimum_sampling_interval, historizing, executable, user_executable,
  data_type_definition, role_permissions, user_role_permissions, access_restrictions, access_level_ex,
};

// AccessLevel bits (Part 3 §8.57).
namespace access_level_bits {
inline constexpr std::uint8_t current_read = 0x01;
inline constexpr std::uint8_t current_write = 0x02;
inline constexpr std::uint8_t history_read = 0x04;
inline constexpr std::uint8_t history_write = 0x08;
}  // namespace access_level_bits

// BrowseResultMask bits (Part 4 §7.6).
namespace browse_result_bits {
inline constexpr std::uint32_t reference_type_id = 1;
inline constexpr std::uint32_t is_forward = 2;
inline constexpr std::uint32_t node_class = 4;
inline constexpr std::uint32_t browse_name = 8;
inline constexpr std::uint32_t display_name = 16;
inline constexpr std::uint32_t type_definition = 32;
inline constexpr std::uint32_t all = 63;
}  // namespace browse_result_bits

// Numeric ids in namespace 0 that the address space itself relies on.
namespace ns0_id {
inline constexpr std::uint32_t base_data_type = 24, structure = 22, number = 26, integer = 27, uinteger = 28,
                               enumeration = 29;
inline constexpr std::uint32_t references = 31, hierarchical_references = 33, has_child = 34, organizes = 35,
                               has_type_definition = 40, aggregates = 44, has_subtype = 45, has_property = 46,
                               has_component = 47;
inline constexpr std::uint32_t base_object_type = 58, folder_type = 61, base_data_variable_type = 63,
                               property_type = 68;
inline constexpr std::uint32_t root = 84, objects = 85, types = 86, views = 87, server = 2253;
}  // namespace ns0_id

struct node_id_hash {
  std::size_t operator()(const node_id& id) const noexcept;
};

// Who is asking: what the services need to know about the session.
struct session_context {
  node_id session_id;  // keys the session's continuation points
  std::string user;    // "" for anonymous
  std::vector<std::string> roles;
  bool anonymous = true;
  // The security mode of the channel the session was activated on (Part 12 restricts
  // certificate management and the AuthorizationService to SignAndEncrypt).
  message_security_mode security_mode = message_security_mode::invalid;
  // Filled for Call by the service layer: the session itself, its channel's policy and peer
  // address, and (set by call()) the object the method is called on.
  const session* origin = nullptr;
  std::string channel_policy_uri;
  std::string remote_address;
  node_id object;
};
session_context context_of(const session& s);

using value_source = std::function<data_value()>;
// Takes a written value (already type-checked); Good stores nothing else, a Bad code is the
// Write's result.
using value_sink = std::function<status_code(const variant& value, const session_context&)>;
using method_handler = std::function<call_method_result(const std::vector<variant>& inputs, const session_context&)>;
// May this session write the Value of / call this node? (The AccessLevel and Executable
// attributes are checked before.)
using node_predicate = std::function<bool(const node_id& node, const session_context&)>;

struct address_space_limits {
  std::uint32_t max_continuation_points = 16;      // per session
  std::uint32_t max_references_per_node = 1'000;   // when the client asks for none or for more
  std::uint32_t max_nodes_per_request = 10'000;
};

// A session's browse continuation points: each keeps what a Browse had left to return.
class continuation_store {
 public:
  explicit continuation_store(std::size_t capacity = 16);
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  void clear() noexcept { entries_.clear(); }

 private:
  friend class address_space;
  struct entry {
    bytes id;
    std::vector<reference_description> remaining;
    std::uint32_t max_references;
  };
  // The continuation point for the rest, or nullopt when every one is in use.
  std::optional<bytes> put(std::vector<reference_description> remaining, std::uint32_t max_references);
  entry* find(const bytes& id);
  void erase(const bytes& id);

  std::size_t capacity_;
  std::uint64_t salt_;
  std::uint64_t next_ = 0;
  std::vector<entry> entries_;
};

// What the services are told about the server (ServerStatus, ServerArray, BuildInfo).
struct server_identity {
  std::string application_uri;
  std::string product_uri;
  std::string application_name;
  std::string manufacturer_name = "castellan";
  std::string software_version;  // empty: castellan's version
  std::string build_number;
};

// castellan's own nodes, added at run time (namespace castellan_namespace, or any loaded one).
struct object_spec {
  node_id id;
  node_id parent = node_id::numeric(ns0_id::objects);
  node_id reference_type = node_id::numeric(ns0_id::organizes);  // parent -> this
  qualified_name browse_name;
  localized_text display_name;  // empty: the browse name
  localized_text description;
  node_id type_definition = node_id::numeric(ns0_id::base_object_type);
  std::uint8_t event_notifier = 0;
};

struct variable_spec {
  node_id id;
  node_id parent;
  node_id reference_type = node_id::numeric(ns0_id::has_component);
  qualified_name browse_name;
  localized_text display_name;
  localized_text description;
  node_id type_definition = node_id::numeric(ns0_id::base_data_variable_type);
  node_id data_type = node_id::numeric(ns0_id::base_data_type);
  std::int32_t value_rank = -1;
  std::vector<std::uint32_t> array_dimensions;
  std::uint8_t access_level = access_level_bits::current_read;
  double minimum_sampling_interval = 0;
  variant value;        // the stored value (when there is no source)
  value_source source;  // computes the value on every read
  value_sink sink;      // takes writes instead of the stored value
};

struct method_spec {
  node_id id;
  node_id parent;  // the object (or object type) it is a component of
  qualified_name browse_name;
  localized_text display_name;
  localized_text description;
  std::vector<argument> input_arguments;  // become the InputArguments property
  std::vector<argument> output_arguments;
  method_handler handler;
};

class address_space {
 public:
  explicit address_space(address_space_limits limits = {});
  ~address_space();
  address_space(const address_space&) = delete;
  address_space& operator=(const address_space&) = delete;

  // Namespace 0 and GDS loaded, the Server object's values wired to `identity` and the clock.
  static result<std::unique_ptr<address_space>> create_standard(const server_identity& identity,
                                                                address_space_limits limits = {});

  // --- Namespaces and loading --------------------------------------------------------------
  std::vector<std::string> namespaces() const;
  // The index of a namespace URI, added at the end when new.
  std::uint16_t namespace_index(std::string_view uri);
  std::optional<std::uint16_t> find_namespace(std::string_view uri) const;
  // Adds a generated table's nodes (its namespaces are mapped onto the array, added when
  // new) and both ends of their references. Fails, adding nothing, on a NodeId that exists
  // already, a reference to a node that is in neither the table nor the address space, or a
  // value that does not decode.
  result<void> load(const nodeset::table& table);

  std::size_t size() const;
  bool contains(const node_id& id) const;
  // Is `type` the node `base` or one of its subtypes (HasSubtype)? False when either is unknown.
  bool is_subtype(const node_id& type, const node_id& base) const;

  // --- Run-time nodes ----------------------------------------------------------------------
  result<void> add_object(const object_spec& spec);
  result<void> add_variable(variable_spec spec);
  // Adds the method and its InputArguments / OutputArguments properties (ids: the method's
  // string id + "/InputArguments", or the next free numeric ids of its namespace).
  result<void> add_method(method_spec spec);
  result<void> add_reference(const node_id& source, const node_id& reference_type, const node_id& target);

  // For existing variables (the loaded ones included).
  result<void> set_value(const node_id& variable, variant value);
  result<void> set_value_source(const node_id& variable, value_source source);
  result<void> set_value_sink(const node_id& variable, value_sink sink);
  result<void> set_access_level(const node_id& variable, std::uint8_t access_level);
  result<void> set_method_handler(const node_id& method, method_handler handler);

  // Who may write Values (default: any session that is not anonymous) and call methods
  // (default: everyone; handlers check what they need).
  void set_write_permission(node_predicate may_write);
  void set_call_permission(node_predicate may_call);

  // --- Services, one operation each ----------------------------------------------------------
  data_value read(const read_value_id& id, timestamps_to_return timestamps, const session_context& who) const;
  status_code write(const write_value& value, const session_context& who);
  // max_references: the client's RequestedMaxReferencesPerNode (0: the server's limit).
  browse_result browse(const browse_description& description, std::uint32_t max_references, continuation_store& points,
                       const session_context& who) const;
  browse_result browse_next(const bytes& continuation_point, bool release, continuation_store& points) const;
  browse_path_result translate(const browse_path& path) const;
  // Checks the object, the method and the input arguments, then runs the handler.
  call_method_result call(const call_method_request& request, const session_context& who);
  // The method's InputArguments (empty when it has none), or the call's error: what call()
  // checks before it runs the handler.
  result<std::vector<argument>> resolve_method(const node_id& object, const node_id& method) const;

  // --- Services, whole requests (continuation points kept per session_id) ---------------------
  read_response read(const read_request& request, const session_context& who) const;
  write_response write(const write_request& request, const session_context& who);
  browse_response browse(const browse_request& request, const session_context& who);
  browse_next_response browse_next(const browse_next_request& request, const session_context& who);
  translate_browse_paths_to_node_ids_response translate(const translate_browse_paths_to_node_ids_request& request,
                                                        const session_context& who) const;
  call_response call(const call_request& request, const session_context& who);
  void release_continuation_points(const session_context& who);

  read_response read(const read_request& request, const session& s) const;
  write_response write(const write_request& request, const session& s);
  browse_response browse(const browse_request& request, const session& s);
  browse_next_response browse_next(const browse_next_request& request, const session& s);
  translate_browse_paths_to_node_ids_response translate(const translate_browse_paths_to_node_ids_request& request,
                                                        const session& s) const;
  call_response call(const call_request& request, const session& s);
  void release_continuation_points(const session& s);

  const address_space_limits& limits() const noexcept { return limits_; }

 private:
  struct node;
  struct reference {
    const node* type;
    node* target;
    bool forward;
  };
  using node_map = std::unordered_map<node_id, std::unique_ptr<node>, node_id_hash>;

  node* find_locked(const node_id& id) const;
  bool is_subtype_locked(const node* type, const node* base) const;
  bool reference_matches(const node* type, const node* filter, bool include_subtypes) const;
  const node* type_definition_locked(const node* n) const;
  result<node*> add_node_locked(std::unique_ptr<node> n, const node_id& parent, const node_id& reference_type,
                                const node_id& type_definition);
  void link_locked(node* source, const node* type, node* target);
  data_value read_locked(const node& n, const read_value_id& id, timestamps_to_return timestamps,
                         const session_context& who) const;
  bool value_matches_locked(const variant& value, const node_id& data_type, std::int32_t value_rank) const;
  std::vector<argument> arguments_locked(const node& method, std::string_view which) const;
  result<const node*> resolve_method_locked(const node_id& object, const node_id& method) const;
  std::uint32_t next_numeric_locked(std::uint16_t ns);
  result<node*> variable_locked(const node_id& id);
  continuation_store& points_for(const session_context& who);

  address_space_limits limits_;
  mutable std::shared_mutex mutex_;
  std::vector<std::string> namespaces_;
  node_map nodes_;
  const node* has_subtype_ = nullptr;
  node_predicate may_write_;
  node_predicate may_call_;
  std::unordered_map<std::uint16_t, std::uint32_t> next_numeric_;

  std::mutex points_mutex_;
  std::unordered_map<node_id, continuation_store, node_id_hash> points_;
};

// "1", "2:5", "1:2,0:3" (Part 4 §7.27): the ranges, or BadIndexRangeInvalid.
struct index_range {
  std::uint32_t low;
  std::uint32_t high;  // == low for a single index
};
result<std::vector<index_range>> parse_index_range(std::string_view text);
// The part of a value a range selects: BadIndexRangeNoData when it selects nothing.
result<variant> apply_index_range(const variant& value, const std::vector<index_range>& ranges);

}  // namespace castellan::ua
