#include "ua/server/address_space.h"

#include "ua/server/operation_checks.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <random>
#include <unordered_set>

#include "ua/binary/codec.h"
#include "ua/nodeset/nodeset.h"
#include "ua/server/session_manager.h"

#ifndef CASTELLAN_VERSION
#define CASTELLAN_VERSION "0.0.0"
#endif

namespace castellan::ua {

// ---------------------------------------------------------------------------------------------
// Small helpers

std::size_t node_id_hash::operator()(const node_id& id) const noexcept {
  std::size_t h = std::hash<std::uint32_t>{}(id.namespace_index) * 0x9E3779B97F4A7C15ull;
  std::visit(
      [&h](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::uint32_t>) {
          h ^= std::hash<std::uint32_t>{}(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          h ^= std::hash<std::string>{}(v) + 1;
        } else if constexpr (std::is_same_v<T, guid>) {
          std::uint64_t tail = 0;
          std::memcpy(&tail, v.data4.data(), sizeof tail);
          h ^= std::hash<std::uint64_t>{}((std::uint64_t{v.data1} << 32 | std::uint64_t{v.data2} << 16 | v.data3) ^ tail) + 2;
        } else {
          h ^= std::hash<std::string_view>{}(
                   std::string_view(reinterpret_cast<const char*>(v.data()), v.size())) + 3;
        }
      },
      id.identifier);
  return h;
}

session_context context_of(const session& s) {
  session_context c;
  c.session_id = s.session_id;
  c.user = s.identity.user;
  c.roles = s.identity.roles;
  c.anonymous = s.identity.token_type.empty() || s.identity.token_type == "anonymous";
  c.security_mode = s.security_mode;
  return c;
}

namespace {

constexpr std::uint32_t all_remaining = 0xFFFFFFFFu;

response_header header_for(const request_header& request, status_code result = status_code::Good) {
  response_header h;
  h.timestamp = date_time::now();
  h.request_handle = request.request_handle;
  h.service_result = result;
  return h;
}

// The builtin type ids a DataType's values take (Part 3 §8): the abstract numeric classes.
bool in_class(builtin_type t, std::uint32_t abstract_type) {
  const auto v = static_cast<std::uint32_t>(t);
  switch (abstract_type) {
    case ns0_id::number: return v >= 2 && v <= 11;
    case ns0_id::integer: return v == 2 || v == 4 || v == 6 || v == 8;
    case ns0_id::uinteger: return v == 3 || v == 5 || v == 7 || v == 9;
    default: return false;
  }
}

bool value_rank_matches(const variant& v, std::int32_t rank) {
  const std::size_t dims = v.is_array ? std::max<std::size_t>(1, v.dimensions.size()) : 0;
  switch (rank) {
    case -3: return dims <= 1;  // ScalarOrOneDimension
    case -2: return true;       // Any
    case -1: return dims == 0;  // Scalar
    case 0: return dims >= 1;   // OneOrMoreDimensions
    default: return rank > 0 && dims == static_cast<std::size_t>(rank);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Continuation points

continuation_store::continuation_store(std::size_t capacity) : capacity_(capacity) {
  std::random_device rd;
  salt_ = (std::uint64_t{rd()} << 32) ^ rd();
}

std::optional<bytes> continuation_store::put(std::vector<reference_description> remaining, std::uint32_t max_references) {
  if (entries_.size() >= capacity_) return std::nullopt;
  bytes id(16);
  const std::uint64_t n = ++next_;
  std::memcpy(id.data(), &salt_, 8);
  std::memcpy(id.data() + 8, &n, 8);
  entries_.push_back(entry{id, std::move(remaining), max_references});
  return id;
}

continuation_store::entry* continuation_store::find(const bytes& id) {
  for (auto& e : entries_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

void continuation_store::erase(const bytes& id) {
  std::erase_if(entries_, [&](const entry& e) { return e.id == id; });
}

// ---------------------------------------------------------------------------------------------
// Index ranges

result<std::vector<index_range>> parse_index_range(std::string_view text) {
  std::vector<index_range> out;
  const auto invalid = [&] { return make_error(status_code::BadIndexRangeInvalid, "index range '" + std::string(text) + "'"); };
  if (text.empty()) return invalid();
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = std::min(text.find(',', pos), text.size());
    const auto part = text.substr(pos, comma - pos);
    const auto colon = part.find(':');
    const auto number = [](std::string_view s, std::uint32_t& v) {
      if (s.empty()) return false;
      const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      return ec == std::errc{} && p == s.data() + s.size();
    };
    index_range r{};
    if (colon == std::string_view::npos) {
      if (!number(part, r.low)) return invalid();
      r.high = r.low;
    } else {
      if (!number(part.substr(0, colon), r.low) || !number(part.substr(colon + 1), r.high) || r.high <= r.low) {
        return invalid();
      }
    }
    out.push_back(r);
    if (comma == text.size()) break;
    pos = comma + 1;
    if (pos == text.size()) return invalid();
  }
  return out;
}

namespace {

// A sub-range of a String or ByteString.
template <class S>
result<S> slice(const S& s, index_range r) {
  if (r.low >= s.size()) return make_error(status_code::BadIndexRangeNoData, "index range past the end");
  const std::size_t high = std::min<std::size_t>(r.high, s.size() - 1);
  return S(s.begin() + static_cast<std::ptrdiff_t>(r.low), s.begin() + static_cast<std::ptrdiff_t>(high) + 1);
}

result<variant_value> slice_element(const variant_value& v, index_range r) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    auto out = slice(*s, r);
    if (!out) return out.err();
    return variant_value(std::move(*out));
  }
  if (const auto* b = std::get_if<bytes>(&v)) {
    auto out = slice(*b, r);
    if (!out) return out.err();
    return variant_value(std::move(*out));
  }
  return make_error(status_code::BadIndexRangeNoData, "index range on an element that is not a String or ByteString");
}

}  // namespace

result<variant> apply_index_range(const variant& value, const std::vector<index_range>& ranges) {
  const auto no_data = [](const char* why) { return make_error(status_code::BadIndexRangeNoData, why); };
  if (ranges.empty()) return value;
  if (value.is_null()) return no_data("index range on a null value");
  if (!value.is_array) {
    if (ranges.size() != 1) return no_data("index range with more dimensions than the value");
    auto element = slice_element(value.values.front(), ranges[0]);
    if (!element) return element.err();
    variant out = value;
    out.values.front() = std::move(*element);
    return out;
  }
  if (value.dimensions.size() > 1) {
    return make_error(status_code::BadIndexRangeInvalid, "index ranges on matrices are not supported");
  }
  if (ranges.size() > 2) return no_data("index range with more dimensions than the value");
  const auto r = ranges[0];
  if (r.low >= value.values.size()) return no_data("index range past the end of the array");
  const std::size_t high = std::min<std::size_t>(r.high, value.values.size() - 1);
  variant out;
  out.type = value.type;
  out.is_array = true;
  for (std::size_t i = r.low; i <= high; ++i) {
    if (ranges.size() == 2) {
      auto element = slice_element(value.values[i], ranges[1]);
      if (!element) return element.err();
      out.values.push_back(std::move(*element));
    } else {
      out.values.push_back(value.values[i]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Nodes

struct address_space::node {
  node_id id;
  node_class cls = node_class::unspecified;
  qualified_name browse_name;
  localized_text display_name;
  localized_text description;
  std::uint32_t write_mask = 0;
  // Objects and views
  std::uint8_t event_notifier = 0;
  bool contains_no_loops = false;
  // Types
  bool is_abstract = false;
  bool symmetric = false;
  localized_text inverse_name;
  // Variables and variable types
  data_value value;
  value_source source;
  value_sink sink;
  node_id data_type;
  std::int32_t value_rank = -1;
  std::vector<std::uint32_t> array_dimensions;
  std::uint8_t access_level = 0;
  double minimum_sampling_interval = 0;
  bool historizing = false;
  // Methods
  bool executable = false;
  method_handler handler;

  std::vector<reference> references;
};

address_space::address_space(address_space_limits limits)
    : limits_(limits), namespaces_{ua_namespace_uri, castellan_namespace_uri} {}

address_space::~address_space() = default;

std::vector<std::string> address_space::namespaces() const {
  std::shared_lock lock(mutex_);
  return namespaces_;
}

std::uint16_t address_space::namespace_index(std::string_view uri) {
  std::unique_lock lock(mutex_);
  for (std::size_t i = 0; i < namespaces_.size(); ++i) {
    if (namespaces_[i] == uri) return static_cast<std::uint16_t>(i);
  }
  namespaces_.emplace_back(uri);
  return static_cast<std::uint16_t>(namespaces_.size() - 1);
}

std::optional<std::uint16_t> address_space::find_namespace(std::string_view uri) const {
  std::shared_lock lock(mutex_);
  for (std::size_t i = 0; i < namespaces_.size(); ++i) {
    if (namespaces_[i] == uri) return static_cast<std::uint16_t>(i);
  }
  return std::nullopt;
}

std::size_t address_space::size() const {
  std::shared_lock lock(mutex_);
  return nodes_.size();
}

bool address_space::contains(const node_id& id) const {
  std::shared_lock lock(mutex_);
  return find_locked(id) != nullptr;
}

address_space::node* address_space::find_locked(const node_id& id) const {
  const auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

void address_space::link_locked(node* source, const node* type, node* target) {
  source->references.push_back(reference{type, target, true});
  target->references.push_back(reference{type, source, false});
}

// ---------------------------------------------------------------------------------------------
// Loading a generated table

result<void> address_space::load(const nodeset::table& table) {
  std::unique_lock lock(mutex_);
  // File namespace index -> ours.
  std::vector<std::uint16_t> ns_map{0};
  std::vector<std::string> added_namespaces;
  for (const char* uri : table.namespace_uris) {
    auto it = std::find(namespaces_.begin(), namespaces_.end(), uri);
    if (it == namespaces_.end()) {
      added_namespaces.emplace_back(uri);
      ns_map.push_back(static_cast<std::uint16_t>(namespaces_.size() + added_namespaces.size() - 1));
    } else {
      ns_map.push_back(static_cast<std::uint16_t>(it - namespaces_.begin()));
    }
  }
  const auto map_ns = [&](std::uint16_t file_ns) -> std::uint16_t {
    return file_ns < ns_map.size() ? ns_map[file_ns] : std::numeric_limits<std::uint16_t>::max();
  };
  const auto fail = [&](status_code code, std::string what) {
    return make_error(code, std::string("node table ") + table.namespace_uri + ": " + what);
  };

  // Build every node first; nothing is added to the address space until all is well.
  std::vector<std::unique_ptr<node>> built;
  built.reserve(table.nodes.size());
  std::unordered_map<node_id, node*, node_id_hash> fresh;
  fresh.reserve(table.nodes.size());
  std::size_t fixup = 0;
  for (std::size_t index = 0; index < table.nodes.size(); ++index) {
    const auto& t = table.nodes[index];
    auto n = std::make_unique<node>();
    n->id = node_id(map_ns(t.ns), t.id);
    if (find_locked(n->id) || fresh.count(n->id)) return fail(status_code::BadNodeIdExists, n->id.to_string() + " exists already");
    n->cls = static_cast<node_class>(t.node_class);
    n->browse_name = qualified_name{map_ns(t.browse_name_ns), t.browse_name};
    n->display_name = localized_text{"", t.display_name};
    if (t.description) n->description = localized_text{"", t.description};
    if (t.inverse_name) n->inverse_name = localized_text{"", t.inverse_name};
    n->event_notifier = t.event_notifier;
    n->contains_no_loops = t.contains_no_loops;
    n->is_abstract = t.is_abstract;
    n->symmetric = t.symmetric;
    n->executable = t.executable;
    n->access_level = t.access_level;
    n->historizing = t.historizing;
    n->minimum_sampling_interval = t.minimum_sampling_interval;
    if (n->cls == node_class::variable || n->cls == node_class::variable_type) {
      n->data_type = node_id(map_ns(t.data_type_ns), t.data_type);
      n->value_rank = t.value_rank;
      if (t.array_dimensions) {
        std::string_view dims(t.array_dimensions);
        while (!dims.empty()) {
          const auto comma = std::min(dims.find(','), dims.size());
          std::uint32_t d = 0;
          std::from_chars(dims.data(), dims.data() + comma, d);
          n->array_dimensions.push_back(d);
          dims.remove_prefix(std::min(comma + 1, dims.size()));
        }
      }
    }
    if (t.value) {
      bytes raw(t.value, t.value + t.value_size);
      for (; fixup < table.value_fixups.size() && table.value_fixups[fixup].node_index <= index; ++fixup) {
        const auto& f = table.value_fixups[fixup];
        if (f.node_index != index || f.offset + 2 > raw.size()) continue;
        std::uint16_t file_ns = 0;
        std::memcpy(&file_ns, raw.data() + f.offset, 2);
        const std::uint16_t ns = map_ns(file_ns);
        std::memcpy(raw.data() + f.offset, &ns, 2);
      }
      auto decoded = decode_all<variant>(raw, &standard_types());
      if (!decoded) return fail(status_code::BadDecodingError, n->id.to_string() + "'s value: " + decoded.err().message);
      n->value.value = std::move(*decoded);
    }
    fresh.emplace(n->id, n.get());
    built.push_back(std::move(n));
  }

  // References, each once from both ends, in the order the file gives them.
  const auto lookup = [&](std::uint16_t file_ns, std::uint32_t id) -> node* {
    const node_id key(map_ns(file_ns), id);
    if (auto it = fresh.find(key); it != fresh.end()) return it->second;
    return find_locked(key);
  };
  struct triple {
    const node* source;
    const node* type;
    const node* target;
    bool operator==(const triple&) const = default;
  };
  struct triple_hash {
    std::size_t operator()(const triple& t) const noexcept {
      const auto h = std::hash<const void*>{};
      return h(t.source) * 31 * 31 + h(t.type) * 31 + h(t.target);
    }
  };
  std::unordered_set<triple, triple_hash> seen;
  std::vector<std::tuple<node*, const node*, node*>> links;
  for (std::size_t index = 0; index < table.nodes.size(); ++index) {
    const auto& t = table.nodes[index];
    node* self = built[index].get();
    for (std::uint32_t i = 0; i < t.reference_count; ++i) {
      const auto& r = t.references[i];
      const node* type = lookup(r.type_ns, r.type);
      node* other = lookup(r.target_ns, r.target);
      if (!type || !other) {
        return fail(status_code::BadNodeIdUnknown, self->id.to_string() + " refers to a node that does not exist (" +
                                                       node_id(map_ns(r.type_ns), r.type).to_string() + " -> " +
                                                       node_id(map_ns(r.target_ns), r.target).to_string() + ")");
      }
      node* source = r.forward ? self : other;
      node* target = r.forward ? other : self;
      if (seen.insert(triple{source, type, target}).second) links.emplace_back(source, type, target);
    }
  }

  // All is well: commit.
  for (auto& uri : added_namespaces) namespaces_.push_back(std::move(uri));
  for (auto& n : built) {
    const node_id id = n->id;
    nodes_.emplace(id, std::move(n));
  }
  for (auto& [source, type, target] : links) link_locked(source, type, target);
  if (!has_subtype_) has_subtype_ = find_locked(node_id::numeric(ns0_id::has_subtype));
  return {};
}

// ---------------------------------------------------------------------------------------------
// Type hierarchy

bool address_space::is_subtype(const node_id& type, const node_id& base) const {
  std::shared_lock lock(mutex_);
  const node* t = find_locked(type);
  const node* b = find_locked(base);
  return t && b && is_subtype_locked(t, b);
}

bool address_space::is_subtype_locked(const node* type, const node* base) const {
  // Walks the inverse HasSubtype references up; the depth guard stops a malformed loop.
  for (int depth = 0; type && depth < 64; ++depth) {
    if (type == base) return true;
    const node* parent = nullptr;
    for (const auto& r : type->references) {
      if (!r.forward && r.type == has_subtype_) {
        parent = r.target;
        break;
      }
    }
    type = parent;
  }
  return false;
}

bool address_space::reference_matches(const node* type, const node* filter, bool include_subtypes) const {
  if (!filter) return true;
  if (type == filter) return true;
  return include_subtypes && is_subtype_locked(type, filter);
}

const address_space::node* address_space::type_definition_locked(const node* n) const {
  if (n->cls != node_class::object && n->cls != node_class::variable) return nullptr;
  for (const auto& r : n->references) {
    if (r.forward && r.type->id == node_id::numeric(ns0_id::has_type_definition)) return r.target;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Read

namespace {

bool has_attribute(node_class cls, attribute a) {
  switch (a) {
    case attribute::node_id:
    case attribute::node_class:
    case attribute::browse_name:
    case attribute::display_name:
    case attribute::description:
    case attribute::write_mask:
    case attribute::user_write_mask:
      return true;
    case attribute::is_abstract:
      return cls == node_class::reference_type || cls == node_class::object_type || cls == node_class::variable_type ||
             cls == node_class::data_type;
    case attribute::symmetric:
    case attribute::inverse_name:
      return cls == node_class::reference_type;
    case attribute::contains_no_loops:
      return cls == node_class::view;
    case attribute::event_notifier:
      return cls == node_class::object || cls == node_class::view;
    case attribute::value:
    case attribute::data_type:
    case attribute::value_rank:
    case attribute::array_dimensions:
      return cls == node_class::variable || cls == node_class::variable_type;
    case attribute::access_level:
    case attribute::user_access_level:
    case attribute::minimum_sampling_interval:
    case attribute::historizing:
    case attribute::access_level_ex:
      return cls == node_class::variable;
    case attribute::executable:
    case attribute::user_executable:
      return cls == node_class::method;
    // Optional attributes castellan does not keep.
    case attribute::data_type_definition:
    case attribute::role_permissions:
    case attribute::user_role_permissions:
    case attribute::access_restrictions:
      return false;
  }
  return false;
}

data_value bad(status_code code) {
  data_value v;
  v.status = code;
  return v;
}

}  // namespace

data_value address_space::read(const read_value_id& id, timestamps_to_return timestamps, const session_context& who) const {
  std::shared_lock lock(mutex_);
  const node* n = find_locked(id.node_id);
  if (!n) return bad(status_code::BadNodeIdUnknown);
  return read_locked(*n, id, timestamps, who);
}

data_value address_space::read_locked(const node& n, const read_value_id& id, timestamps_to_return timestamps,
                                      const session_context& who) const {
  if (id.attribute_id < 1 || id.attribute_id > 27) return bad(status_code::BadAttributeIdInvalid);
  const auto a = static_cast<attribute>(id.attribute_id);
  if (!has_attribute(n.cls, a)) return bad(status_code::BadAttributeIdInvalid);
  if (!id.data_encoding.name.empty() || id.data_encoding.namespace_index != 0) {
    if (a != attribute::value) return bad(status_code::BadDataEncodingInvalid);
    if (id.data_encoding.namespace_index != 0 || id.data_encoding.name != "Default Binary") {
      return bad(status_code::BadDataEncodingUnsupported);
    }
  }
  std::vector<index_range> ranges;
  if (!id.index_range.empty()) {
    auto parsed = parse_index_range(id.index_range);
    if (!parsed) return bad(parsed.code());
    ranges = std::move(*parsed);
  }

  data_value out;
  const auto set = [&out](auto v) { out.value = variant::scalar(std::move(v)); };
  const auto user_writable = [&] {
    return may_write_ ? may_write_(n.id, who) : !who.anonymous;
  };
  const auto user_executable = [&] { return n.executable && (!may_call_ || may_call_(n.id, who)); };
  switch (a) {
    case attribute::node_id: set(n.id); break;
    case attribute::node_class: set(static_cast<std::int32_t>(n.cls)); break;
    case attribute::browse_name: set(n.browse_name); break;
    case attribute::display_name: set(n.display_name); break;
    case attribute::description: set(n.description); break;
    case attribute::write_mask: set(n.write_mask); break;
    case attribute::user_write_mask: set(std::uint32_t{0}); break;
    case attribute::is_abstract: set(n.is_abstract); break;
    case attribute::symmetric: set(n.symmetric); break;
    case attribute::inverse_name: set(n.inverse_name); break;
    case attribute::contains_no_loops: set(n.contains_no_loops); break;
    case attribute::event_notifier: set(n.event_notifier); break;
    case attribute::value:
      if (n.source) {
        out = n.source();
      } else {
        out = n.value;
        if (!out.value) out.value = variant{};
      }
      break;
    case attribute::data_type: set(n.data_type); break;
    case attribute::value_rank: set(n.value_rank); break;
    case attribute::array_dimensions:
      out.value = variant::array(n.array_dimensions, builtin_type::uint32);
      break;
    case attribute::access_level: set(n.access_level); break;
    case attribute::user_access_level: {
      std::uint8_t level = n.access_level;
      if ((level & access_level_bits::current_write) && !user_writable()) {
        level = static_cast<std::uint8_t>(level & ~access_level_bits::current_write);
      }
      set(level);
      break;
    }
    case attribute::access_level_ex: set(std::uint32_t{n.access_level}); break;
    case attribute::minimum_sampling_interval: set(n.minimum_sampling_interval); break;
    case attribute::historizing: set(n.historizing); break;
    case attribute::executable: set(n.executable); break;
    case attribute::user_executable: set(user_executable()); break;
    default: return bad(status_code::BadAttributeIdInvalid);
  }

  if (!ranges.empty() && out.value && (!out.status || is_good(*out.status))) {
    auto part = apply_index_range(*out.value, ranges);
    if (!part) return bad(part.code());
    out.value = std::move(*part);
  }
  // Source timestamps belong to values only; the server timestamp is now.
  const bool is_value = a == attribute::value;
  const bool want_source = is_value && (timestamps == timestamps_to_return::source || timestamps == timestamps_to_return::both);
  const bool want_server = timestamps == timestamps_to_return::server || timestamps == timestamps_to_return::both;
  if (!want_source) {
    out.source_timestamp.reset();
    out.source_picoseconds.reset();
  }
  out.server_picoseconds.reset();
  if (want_server) {
    out.server_timestamp = date_time::now();
  } else {
    out.server_timestamp.reset();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Write

bool address_space::value_matches_locked(const variant& value, const node_id& data_type, std::int32_t value_rank) const {
  if (!value_rank_matches(value, value_rank) && !value.is_null()) return false;
  const node* dt = find_locked(data_type);
  if (!dt) return false;
  // Up the DataType hierarchy to the builtin type (or abstract class) its values take.
  const node* base = dt;
  std::uint32_t builtin = 0;
  for (int depth = 0; base && depth < 64; ++depth) {
    const auto id = base->id.ns0_numeric();
    if (base->id.namespace_index == 0 && ((id >= 1 && id <= 29) || id == ns0_id::base_data_type)) {
      builtin = id;
      break;
    }
    const node* parent = nullptr;
    for (const auto& r : base->references) {
      if (!r.forward && r.type == has_subtype_) {
        parent = r.target;
        break;
      }
    }
    base = parent;
  }
  if (builtin == ns0_id::base_data_type) return true;  // anything, null included
  // A null structure is how an optional structure argument is left out (e.g. Part 12's
  // RequestAccessToken without an IdentityToken: implicit use).
  if (value.is_null()) return builtin == ns0_id::structure && value_rank < 1;
  switch (builtin) {
    case 0: return false;
    case ns0_id::number:
    case ns0_id::integer:
    case ns0_id::uinteger: return in_class(value.type, builtin);
    case ns0_id::enumeration: return value.type == builtin_type::int32;
    case ns0_id::structure: {
      if (value.type != builtin_type::extension_object) return false;
      if (dt->id == node_id::numeric(ns0_id::structure)) return true;
      // Each structure must be the DataType or a subtype of it.
      for (const auto& item : value.values) {
        const auto* eo = std::get_if<extension_object>(&item);
        if (!eo || !eo->codec) return false;
        if (!is_subtype_locked(find_locked(node_id::numeric(eo->codec->data_type_id)), dt)) return false;
      }
      return true;
    }
    default: return static_cast<std::uint32_t>(value.type) == builtin;
  }
}

status_code address_space::write(const write_value& w, const session_context& who) {
  value_sink sink;
  variant to_sink;
  {
    std::unique_lock lock(mutex_);
    node* n = find_locked(w.node_id);
    if (!n) return status_code::BadNodeIdUnknown;
    if (w.attribute_id < 1 || w.attribute_id > 27) return status_code::BadAttributeIdInvalid;
    const auto a = static_cast<attribute>(w.attribute_id);
    if (!has_attribute(n->cls, a)) return status_code::BadAttributeIdInvalid;
    if (a != attribute::value || n->cls != node_class::variable) return status_code::BadNotWritable;
    std::vector<index_range> ranges;
    if (!w.index_range.empty()) {
      auto parsed = parse_index_range(w.index_range);
      if (!parsed) return parsed.code();
      ranges = std::move(*parsed);
    }
    if (!(n->access_level & access_level_bits::current_write)) return status_code::BadNotWritable;
    if (may_write_ ? !may_write_(n->id, who) : who.anonymous) return status_code::BadUserAccessDenied;
    if (!w.value.value) return status_code::BadTypeMismatch;
    if (w.value.status && !is_good(*w.value.status) && !(n->access_level & 0x20)) return status_code::BadWriteNotSupported;
    const variant& v = *w.value.value;

    variant stored;
    if (ranges.empty()) {
      if (!value_matches_locked(v, n->data_type, n->value_rank)) return status_code::BadTypeMismatch;
      stored = v;
    } else {
      // A range of a one-dimensional array, replaced by as many elements of the same type.
      if (ranges.size() != 1 || n->source) return status_code::BadWriteNotSupported;
      if (n->sink) return status_code::BadWriteNotSupported;
      const variant current = n->value.value.value_or(variant{});
      if (!current.is_array || current.dimensions.size() > 1) return status_code::BadIndexRangeNoData;
      const auto r = ranges[0];
      if (r.high >= current.values.size()) return status_code::BadIndexRangeNoData;
      if (!v.is_array || v.type != current.type || v.values.size() != r.high - r.low + 1) {
        return status_code::BadTypeMismatch;
      }
      stored = current;
      std::copy(v.values.begin(), v.values.end(), stored.values.begin() + r.low);
    }
    if (n->sink) {
      sink = n->sink;
      to_sink = std::move(stored);
    } else {
      n->value.value = std::move(stored);
      n->value.status = w.value.status;
      n->value.source_timestamp = w.value.source_timestamp.value_or(date_time::now());
      return status_code::Good;
    }
  }
  return sink(to_sink, who);
}

// ---------------------------------------------------------------------------------------------
// Browse

namespace {

browse_result browse_error(status_code code) {
  browse_result r;
  r.status_code = code;
  return r;
}

// Hands out up to `max` of `all`, keeping the rest behind a continuation point.
void hand_out(browse_result& out, std::vector<reference_description> all, std::uint32_t max,
              const std::function<std::optional<bytes>(std::vector<reference_description>, std::uint32_t)>& put) {
  if (all.size() <= max) {
    out.references = std::move(all);
    return;
  }
  std::vector<reference_description> rest(std::make_move_iterator(all.begin() + max), std::make_move_iterator(all.end()));
  all.resize(max);
  auto point = put(std::move(rest), max);
  if (!point) {
    out.status_code = status_code::BadNoContinuationPoints;
    return;
  }
  out.references = std::move(all);
  out.continuation_point = std::move(*point);
}

}  // namespace

browse_result address_space::browse(const browse_description& d, std::uint32_t max_references, continuation_store& points,
                                    const session_context& who) const {
  (void)who;
  std::vector<reference_description> found;
  {
    std::shared_lock lock(mutex_);
    const node* n = find_locked(d.node_id);
    if (!n) return browse_error(status_code::BadNodeIdUnknown);
    const auto direction = static_cast<std::int32_t>(d.browse_direction);
    if (direction < 0 || direction > 2) return browse_error(status_code::BadBrowseDirectionInvalid);
    const node* filter = nullptr;
    if (!d.reference_type_id.is_null()) {
      filter = find_locked(d.reference_type_id);
      if (!filter || filter->cls != node_class::reference_type) return browse_error(status_code::BadReferenceTypeIdInvalid);
    }
    const auto mask = d.result_mask;
    for (const auto& r : n->references) {
      if (direction == 0 && !r.forward) continue;
      if (direction == 1 && r.forward) continue;
      if (!reference_matches(r.type, filter, d.include_subtypes)) continue;
      const node* t = r.target;
      if (d.node_class_mask != 0 && !(d.node_class_mask & static_cast<std::uint32_t>(t->cls))) continue;
      reference_description rd;
      if (mask & browse_result_bits::reference_type_id) rd.reference_type_id = r.type->id;
      if (mask & browse_result_bits::is_forward) rd.is_forward = r.forward;
      rd.node_id.id = t->id;
      if (mask & browse_result_bits::browse_name) rd.browse_name = t->browse_name;
      if (mask & browse_result_bits::display_name) rd.display_name = t->display_name;
      if (mask & browse_result_bits::node_class) rd.node_class = t->cls;
      if (mask & browse_result_bits::type_definition) {
        if (const node* td = type_definition_locked(t)) rd.type_definition.id = td->id;
      }
      found.push_back(std::move(rd));
    }
  }
  const std::uint32_t cap = limits_.max_references_per_node == 0 ? all_remaining : limits_.max_references_per_node;
  const std::uint32_t max = max_references == 0 ? cap : std::min(max_references, cap);
  browse_result out;
  hand_out(out, std::move(found), max,
           [&points](std::vector<reference_description> rest, std::uint32_t m) { return points.put(std::move(rest), m); });
  return out;
}

browse_result address_space::browse_next(const bytes& continuation_point, bool release, continuation_store& points) const {
  auto* entry = points.find(continuation_point);
  if (!entry) return browse_error(status_code::BadContinuationPointInvalid);
  browse_result out;
  if (release) {
    points.erase(continuation_point);
    return out;
  }
  auto remaining = std::move(entry->remaining);
  const auto max = entry->max_references;
  points.erase(continuation_point);  // a new point carries whatever is left
  hand_out(out, std::move(remaining), max,
           [&points](std::vector<reference_description> rest, std::uint32_t m) { return points.put(std::move(rest), m); });
  return out;
}

// ---------------------------------------------------------------------------------------------
// TranslateBrowsePathsToNodeIds

browse_path_result address_space::translate(const browse_path& path) const {
  browse_path_result out;
  const auto& elements = path.relative_path.elements;
  if (elements.empty()) {
    out.status_code = status_code::BadNothingToDo;
    return out;
  }
  std::shared_lock lock(mutex_);
  const node* start = find_locked(path.starting_node);
  if (!start) {
    out.status_code = status_code::BadNodeIdUnknown;
    return out;
  }
  // Every name but the last one's must be given (an empty last name matches any target).
  for (std::size_t i = 0; i + 1 < elements.size(); ++i) {
    if (elements[i].target_name.name.empty()) {
      out.status_code = status_code::BadBrowseNameInvalid;
      return out;
    }
  }
  std::vector<const node*> current{start};
  for (std::size_t i = 0; i < elements.size(); ++i) {
    const auto& e = elements[i];
    const node* filter = nullptr;
    if (!e.reference_type_id.is_null()) {
      filter = find_locked(e.reference_type_id);
      if (!filter || filter->cls != node_class::reference_type) {
        out.status_code = status_code::BadReferenceTypeIdInvalid;
        return out;
      }
    }
    const bool any_name = e.target_name.name.empty() && i + 1 == elements.size();
    std::vector<const node*> next;
    for (const node* n : current) {
      for (const auto& r : n->references) {
        if (r.forward == e.is_inverse) continue;
        if (!reference_matches(r.type, filter, e.include_subtypes)) continue;
        if (!any_name && !(r.target->browse_name == e.target_name)) continue;
        if (std::find(next.begin(), next.end(), r.target) == next.end()) next.push_back(r.target);
      }
    }
    if (next.empty()) {
      out.status_code = status_code::BadNoMatch;
      return out;
    }
    current = std::move(next);
  }
  for (const node* n : current) {
    browse_path_target t;
    t.target_id.id = n->id;
    t.remaining_path_index = all_remaining;
    out.targets.push_back(std::move(t));
  }
  out.status_code = status_code::Good;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Call

std::vector<argument> address_space::arguments_locked(const node& method, std::string_view which) const {
  std::vector<argument> out;
  for (const auto& r : method.references) {
    if (!r.forward || r.type->id != node_id::numeric(ns0_id::has_property)) continue;
    if (r.target->browse_name.namespace_index != 0 || r.target->browse_name.name != which) continue;
    const auto& v = r.target->value.value;
    if (!v) break;
    for (const auto& item : v->values) {
      if (const auto* eo = std::get_if<extension_object>(&item)) {
        if (const auto* a = eo->get<argument>()) out.push_back(*a);
      }
    }
    break;
  }
  return out;
}

result<const address_space::node*> address_space::resolve_method_locked(const node_id& object_id,
                                                                        const node_id& method_id) const {
  const node* object = find_locked(object_id);
  if (!object) return make_error(status_code::BadNodeIdUnknown, object_id.to_string() + " does not exist");
  if (object->cls != node_class::object && object->cls != node_class::object_type) {
    return make_error(status_code::BadNodeIdInvalid, object_id.to_string() + " is not an object");
  }
  const node* method = find_locked(method_id);
  if (!method || method->cls != node_class::method) {
    return make_error(status_code::BadMethodInvalid, method_id.to_string() + " is not a method");
  }
  const node* has_component = find_locked(node_id::numeric(ns0_id::has_component));
  const auto component_of = [&](const node* owner) {
    for (const auto& r : owner->references) {
      if (r.forward && r.target == method && reference_matches(r.type, has_component, true)) return true;
    }
    return false;
  };
  if (component_of(object)) return method;
  // Or a component of the object's type (or of a supertype): the type's method, called on
  // the instance.
  const node* type = object->cls == node_class::object ? type_definition_locked(object) : object;
  for (int depth = 0; type && depth < 64; ++depth) {
    if (component_of(type)) return method;
    const node* parent = nullptr;
    for (const auto& r : type->references) {
      if (!r.forward && r.type == has_subtype_) {
        parent = r.target;
        break;
      }
    }
    type = parent;
  }
  return make_error(status_code::BadMethodInvalid,
                    method_id.to_string() + " is not a component of " + object_id.to_string() + " or of its type");
}

result<std::vector<argument>> address_space::resolve_method(const node_id& object, const node_id& method) const {
  std::shared_lock lock(mutex_);
  auto m = resolve_method_locked(object, method);
  if (!m) return m.err();
  return arguments_locked(**m, "InputArguments");
}

call_method_result address_space::call(const call_method_request& request, const session_context& who) {
  call_method_result out;
  method_handler handler;
  {
    std::shared_lock lock(mutex_);
    auto m = resolve_method_locked(request.object_id, request.method_id);
    if (!m) {
      out.status_code = m.code();
      return out;
    }
    const node* method = *m;
    if (!method->executable) {
      out.status_code = status_code::BadNotExecutable;
      return out;
    }
    if (may_call_ && !may_call_(method->id, who)) {
      out.status_code = status_code::BadUserAccessDenied;
      return out;
    }
    const auto expected = arguments_locked(*method, "InputArguments");
    if (request.input_arguments.size() < expected.size()) {
      out.status_code = status_code::BadArgumentsMissing;
      return out;
    }
    if (request.input_arguments.size() > expected.size()) {
      out.status_code = status_code::BadTooManyArguments;
      return out;
    }
    bool all_good = true;
    out.input_argument_results.resize(expected.size(), status_code::Good);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (!value_matches_locked(request.input_arguments[i], expected[i].data_type, expected[i].value_rank)) {
        out.input_argument_results[i] = status_code::BadTypeMismatch;
        all_good = false;
      }
    }
    if (!all_good) {
      out.status_code = status_code::BadInvalidArgument;
      return out;
    }
    out.input_argument_results.clear();
    if (!method->handler) {
      out.status_code = status_code::BadNotImplemented;
      return out;
    }
    handler = method->handler;
  }
  // The handler learns which object it was called on (one method declaration may serve many).
  session_context on_object = who;
  on_object.object = request.object_id;
  return handler(request.input_arguments, on_object);
}

// ---------------------------------------------------------------------------------------------
// Run-time nodes

void address_space::set_write_permission(node_predicate may_write) {
  std::unique_lock lock(mutex_);
  may_write_ = std::move(may_write);
}

void address_space::set_call_permission(node_predicate may_call) {
  std::unique_lock lock(mutex_);
  may_call_ = std::move(may_call);
}

std::uint32_t address_space::next_numeric_locked(std::uint16_t ns) {
  auto& next = next_numeric_[ns];
  if (next == 0) next = 1;
  while (find_locked(node_id(ns, next))) ++next;
  return next++;
}

result<address_space::node*> address_space::add_node_locked(std::unique_ptr<node> n, const node_id& parent,
                                                            const node_id& reference_type, const node_id& type_definition) {
  if (n->id.is_null()) return make_error(status_code::BadNodeIdInvalid, "a node needs a NodeId");
  if (n->id.namespace_index >= namespaces_.size()) {
    return make_error(status_code::BadNodeIdInvalid, n->id.to_string() + ": unknown namespace");
  }
  if (find_locked(n->id)) return make_error(status_code::BadNodeIdExists, n->id.to_string() + " exists already");
  if (n->browse_name.name.empty()) return make_error(status_code::BadBrowseNameInvalid, n->id.to_string() + " needs a BrowseName");
  node* p = find_locked(parent);
  if (!p) return make_error(status_code::BadParentNodeIdInvalid, "parent " + parent.to_string() + " does not exist");
  const node* rt = find_locked(reference_type);
  if (!rt || rt->cls != node_class::reference_type) {
    return make_error(status_code::BadReferenceTypeIdInvalid, reference_type.to_string() + " is not a reference type");
  }
  node* td = nullptr;
  if (!type_definition.is_null()) {
    td = find_locked(type_definition);
    const auto want = n->cls == node_class::object ? node_class::object_type : node_class::variable_type;
    if (!td || td->cls != want) {
      return make_error(status_code::BadTypeDefinitionInvalid, type_definition.to_string() + " is not a fitting type");
    }
  }
  if (n->display_name.text.empty()) n->display_name.text = n->browse_name.name;
  node* added = n.get();
  const node_id id = n->id;
  nodes_.emplace(id, std::move(n));
  link_locked(p, rt, added);
  if (td) link_locked(added, find_locked(node_id::numeric(ns0_id::has_type_definition)), td);
  return added;
}

result<void> address_space::add_object(const object_spec& spec) {
  auto n = std::make_unique<node>();
  n->id = spec.id;
  n->cls = node_class::object;
  n->browse_name = spec.browse_name;
  n->display_name = spec.display_name;
  n->description = spec.description;
  n->event_notifier = spec.event_notifier;
  std::unique_lock lock(mutex_);
  auto added = add_node_locked(std::move(n), spec.parent, spec.reference_type, spec.type_definition);
  if (!added) return added.err();
  return {};
}

result<void> address_space::add_variable(variable_spec spec) {
  auto n = std::make_unique<node>();
  n->id = spec.id;
  n->cls = node_class::variable;
  n->browse_name = std::move(spec.browse_name);
  n->display_name = std::move(spec.display_name);
  n->description = std::move(spec.description);
  n->data_type = spec.data_type;
  n->value_rank = spec.value_rank;
  n->array_dimensions = std::move(spec.array_dimensions);
  n->access_level = spec.access_level;
  n->minimum_sampling_interval = spec.minimum_sampling_interval;
  n->source = std::move(spec.source);
  n->sink = std::move(spec.sink);
  std::unique_lock lock(mutex_);
  if (!find_locked(spec.data_type)) return make_error(status_code::BadTypeMismatch, spec.data_type.to_string() + " is no DataType");
  if (!n->source && !spec.value.is_null() && !value_matches_locked(spec.value, spec.data_type, spec.value_rank)) {
    return make_error(status_code::BadTypeMismatch, spec.id.to_string() + ": the value does not fit the DataType");
  }
  n->value.value = std::move(spec.value);
  n->value.source_timestamp = date_time::now();
  auto added = add_node_locked(std::move(n), spec.parent, spec.reference_type, spec.type_definition);
  if (!added) return added.err();
  return {};
}

result<void> address_space::add_method(method_spec spec) {
  std::unique_lock lock(mutex_);
  auto n = std::make_unique<node>();
  n->id = spec.id;
  n->cls = node_class::method;
  n->browse_name = spec.browse_name;
  n->display_name = spec.display_name;
  n->description = spec.description;
  n->executable = true;
  n->handler = std::move(spec.handler);
  auto added = add_node_locked(std::move(n), spec.parent, node_id::numeric(ns0_id::has_component), node_id{});
  if (!added) return added.err();
  const auto property = [&](std::vector<argument>& args, const char* name) -> result<void> {
    if (args.empty()) return {};
    auto p = std::make_unique<node>();
    if (const auto* text = std::get_if<std::string>(&spec.id.identifier)) {
      p->id = node_id(spec.id.namespace_index, *text + "/" + name);
    } else {
      p->id = node_id(spec.id.namespace_index, next_numeric_locked(spec.id.namespace_index));
    }
    p->cls = node_class::variable;
    p->browse_name = qualified_name{0, name};
    p->data_type = node_id::numeric(296);  // Argument
    p->value_rank = 1;
    p->array_dimensions = {0};
    p->access_level = access_level_bits::current_read;
    std::vector<extension_object> items;
    for (auto& a : args) items.push_back(extension_object::from(std::move(a)));
    p->value.value = variant::array(std::move(items), builtin_type::extension_object);
    p->value.source_timestamp = date_time::now();
    auto prop = add_node_locked(std::move(p), spec.id, node_id::numeric(ns0_id::has_property),
                                node_id::numeric(ns0_id::property_type));
    if (!prop) return prop.err();
    return {};
  };
  if (auto r = property(spec.input_arguments, "InputArguments"); !r) return r;
  if (auto r = property(spec.output_arguments, "OutputArguments"); !r) return r;
  return {};
}

result<void> address_space::add_reference(const node_id& source, const node_id& reference_type, const node_id& target) {
  std::unique_lock lock(mutex_);
  node* s = find_locked(source);
  node* t = find_locked(target);
  const node* rt = find_locked(reference_type);
  if (!s) return make_error(status_code::BadSourceNodeIdInvalid, source.to_string() + " does not exist");
  if (!t) return make_error(status_code::BadTargetNodeIdInvalid, target.to_string() + " does not exist");
  if (!rt || rt->cls != node_class::reference_type) {
    return make_error(status_code::BadReferenceTypeIdInvalid, reference_type.to_string() + " is not a reference type");
  }
  for (const auto& r : s->references) {
    if (r.forward && r.type == rt && r.target == t) return make_error(status_code::BadDuplicateReferenceNotAllowed, "exists already");
  }
  link_locked(s, rt, t);
  return {};
}

result<address_space::node*> address_space::variable_locked(const node_id& id) {
  node* n = find_locked(id);
  if (!n) return make_error(status_code::BadNodeIdUnknown, id.to_string() + " does not exist");
  if (n->cls != node_class::variable && n->cls != node_class::variable_type) {
    return make_error(status_code::BadNodeClassInvalid, id.to_string() + " is not a variable");
  }
  return n;
}

result<void> address_space::set_value(const node_id& id, variant value) {
  std::unique_lock lock(mutex_);
  auto n = variable_locked(id);
  if (!n) return n.err();
  (*n)->value.value = std::move(value);
  (*n)->value.status.reset();
  (*n)->value.source_timestamp = date_time::now();
  return {};
}

result<void> address_space::set_value_source(const node_id& id, value_source source) {
  std::unique_lock lock(mutex_);
  auto n = variable_locked(id);
  if (!n) return n.err();
  (*n)->source = std::move(source);
  return {};
}

result<void> address_space::set_value_sink(const node_id& id, value_sink sink) {
  std::unique_lock lock(mutex_);
  auto n = variable_locked(id);
  if (!n) return n.err();
  (*n)->sink = std::move(sink);
  return {};
}

result<void> address_space::set_access_level(const node_id& id, std::uint8_t access_level) {
  std::unique_lock lock(mutex_);
  auto n = variable_locked(id);
  if (!n) return n.err();
  (*n)->access_level = access_level;
  return {};
}

result<void> address_space::set_method_handler(const node_id& id, method_handler handler) {
  std::unique_lock lock(mutex_);
  node* n = find_locked(id);
  if (!n || n->cls != node_class::method) return make_error(status_code::BadMethodInvalid, id.to_string() + " is not a method");
  n->handler = std::move(handler);
  return {};
}

// ---------------------------------------------------------------------------------------------
// Whole requests

continuation_store& address_space::points_for(const session_context& who) {
  return points_.try_emplace(who.session_id, limits_.max_continuation_points).first->second;
}

read_response address_space::read(const read_request& request, const session_context& who) const {
  read_response response;
  response.response_header = header_for(request.request_header);
  if (!check_operations(response, request.nodes_to_read, limits_.max_nodes_per_request)) return response;
  if (request.max_age < 0) {
    response.response_header.service_result = status_code::BadMaxAgeInvalid;
    return response;
  }
  const auto timestamps = static_cast<std::int32_t>(request.timestamps_to_return);
  if (timestamps < 0 || timestamps > 3) {
    response.response_header.service_result = status_code::BadTimestampsToReturnInvalid;
    return response;
  }
  response.results.reserve(request.nodes_to_read.size());
  std::shared_lock lock(mutex_);
  for (const auto& id : request.nodes_to_read) {
    const node* n = find_locked(id.node_id);
    response.results.push_back(n ? read_locked(*n, id, request.timestamps_to_return, who) : bad(status_code::BadNodeIdUnknown));
  }
  return response;
}

write_response address_space::write(const write_request& request, const session_context& who) {
  write_response response;
  response.response_header = header_for(request.request_header);
  if (!check_operations(response, request.nodes_to_write, limits_.max_nodes_per_request)) return response;
  response.results.reserve(request.nodes_to_write.size());
  for (const auto& w : request.nodes_to_write) response.results.push_back(write(w, who));
  return response;
}

browse_response address_space::browse(const browse_request& request, const session_context& who) {
  browse_response response;
  response.response_header = header_for(request.request_header);
  if (!check_operations(response, request.nodes_to_browse, limits_.max_nodes_per_request)) return response;
  if (!request.view.view_id.is_null()) {
    response.response_header.service_result = status_code::BadViewIdUnknown;
    return response;
  }
  std::lock_guard points_lock(points_mutex_);
  auto& points = points_for(who);
  response.results.reserve(request.nodes_to_browse.size());
  for (const auto& d : request.nodes_to_browse) {
    response.results.push_back(browse(d, request.requested_max_references_per_node, points, who));
  }
  return response;
}

browse_next_response address_space::browse_next(const browse_next_request& request, const session_context& who) {
  browse_next_response response;
  response.response_header = header_for(request.request_header);
  if (!check_operations(response, request.continuation_points, limits_.max_nodes_per_request)) return response;
  std::lock_guard points_lock(points_mutex_);
  auto& points = points_for(who);
  response.results.reserve(request.continuation_points.size());
  for (const auto& point : request.continuation_points) {
    response.results.push_back(browse_next(point, request.release_continuation_points, points));
  }
  return response;
}

translate_browse_paths_to_node_ids_response address_space::translate(
    const translate_browse_paths_to_node_ids_request& request, const session_context& who) const {
  (void)who;
  translate_browse_paths_to_node_ids_response response;
  response.response_header = header_for(request.request_header);
  if (!check_operations(response, request.browse_paths, limits_.max_nodes_per_request)) return response;
  response.results.reserve(request.browse_paths.size());
  for (const auto& path : request.browse_paths) response.results.push_back(translate(path));
  return response;
}

call_response address_space::call(const call_request& request, const session_context& who) {
  call_response response;
  response.response_header = header_for(request.request_header);
  if (!check_operations(response, request.methods_to_call, limits_.max_nodes_per_request)) return response;
  response.results.reserve(request.methods_to_call.size());
  for (const auto& m : request.methods_to_call) response.results.push_back(call(m, who));
  return response;
}

void address_space::release_continuation_points(const session_context& who) {
  std::lock_guard points_lock(points_mutex_);
  points_.erase(who.session_id);
}

read_response address_space::read(const read_request& request, const session& s) const {
  return read(request, context_of(s));
}
write_response address_space::write(const write_request& request, const session& s) { return write(request, context_of(s)); }
browse_response address_space::browse(const browse_request& request, const session& s) {
  return browse(request, context_of(s));
}
browse_next_response address_space::browse_next(const browse_next_request& request, const session& s) {
  return browse_next(request, context_of(s));
}
translate_browse_paths_to_node_ids_response address_space::translate(
    const translate_browse_paths_to_node_ids_request& request, const session& s) const {
  return translate(request, context_of(s));
}
call_response address_space::call(const call_request& request, const session& s) { return call(request, context_of(s)); }
void address_space::release_continuation_points(const session& s) { release_continuation_points(context_of(s)); }

// ---------------------------------------------------------------------------------------------
// The standard address space

result<std::unique_ptr<address_space>> address_space::create_standard(const server_identity& identity,
                                                                      address_space_limits limits) {
  auto space = std::make_unique<address_space>(limits);
  if (auto r = space->load(nodeset::ns0()); !r) return r.err();
  if (auto r = space->load(nodeset::gds()); !r) return r.err();
  auto* self = space.get();
  const auto start = date_time::now();

  build_info build;
  build.product_uri = identity.product_uri;
  build.manufacturer_name = identity.manufacturer_name;
  build.product_name = identity.application_name;
  build.software_version = identity.software_version.empty() ? std::string(CASTELLAN_VERSION) : identity.software_version;
  build.build_number = identity.build_number.empty() ? build.software_version : identity.build_number;
  build.build_date = start;

  std::vector<std::pair<std::uint32_t, variant>> values = {
      {2254, variant::array(std::vector<std::string>{identity.application_uri}, builtin_type::string)},  // ServerArray
      {2257, variant::scalar(start)},                                                                    // StartTime
      {2259, variant::scalar(static_cast<std::int32_t>(server_state::running))},                        // State
      {2260, variant::scalar(extension_object::from(build))},                                            // BuildInfo
      {2262, variant::scalar(build.product_uri)},
      {2263, variant::scalar(build.manufacturer_name)},
      {2261, variant::scalar(build.product_name)},
      {2264, variant::scalar(build.software_version)},
      {2265, variant::scalar(build.build_number)},
      {2266, variant::scalar(build.build_date)},
      {2992, variant::scalar(std::uint32_t{0})},  // SecondsTillShutdown
      {2993, variant::scalar(localized_text{})},  // ShutdownReason
      {2267, variant::scalar(std::uint8_t{255})},  // ServiceLevel
      {2994, variant::scalar(false)},  // Auditing
      {2269, variant::array(std::vector<std::string>{"http://opcfoundation.org/UA-Profile/Server/NanoEmbeddedDevice2017"},
                            builtin_type::string)},  // ServerProfileArray
      {2271, variant::array(std::vector<std::string>{"en"}, builtin_type::string)},  // LocaleIdArray
      {2272, variant::scalar(0.0)},  // MinSupportedSampleRate
      {2735, variant::scalar(static_cast<std::uint16_t>(std::min<std::uint32_t>(limits.max_continuation_points, 0xFFFF)))},
      {2736, variant::scalar(std::uint16_t{0})},
      {2737, variant::scalar(std::uint16_t{0})},
      {11702, variant::scalar(decode_limits{}.max_array_length)},   // MaxArrayLength
      {11703, variant::scalar(decode_limits{}.max_string_length)},  // MaxStringLength
      {12911, variant::scalar(decode_limits{}.max_string_length)},  // MaxByteStringLength
      {11705, variant::scalar(limits.max_nodes_per_request)},  // MaxNodesPerRead
      {11707, variant::scalar(limits.max_nodes_per_request)},  // MaxNodesPerWrite
      {11709, variant::scalar(limits.max_nodes_per_request)},  // MaxNodesPerMethodCall
      {11710, variant::scalar(limits.max_nodes_per_request)},  // MaxNodesPerBrowse
      {11711, variant::scalar(limits.max_nodes_per_request)},  // MaxNodesPerRegisterNodes
      {11712, variant::scalar(limits.max_nodes_per_request)},  // MaxNodesPerTranslateBrowsePathsToNodeIds
      {11713, variant::scalar(std::uint32_t{0})},              // MaxNodesPerNodeManagement
      {11714, variant::scalar(std::uint32_t{0})},              // MaxMonitoredItemsPerCall
      {12165, variant::scalar(std::uint32_t{0})},
      {12166, variant::scalar(std::uint32_t{0})},
      {12167, variant::scalar(std::uint32_t{0})},
      {12168, variant::scalar(std::uint32_t{0})},
      {2294, variant::scalar(false)},  // ServerDiagnostics.EnabledFlag
  };
  for (auto& [id, v] : values) {
    if (auto r = space->set_value(node_id::numeric(id), std::move(v)); !r) return r.err();
  }
  // NamespaceArray follows the array; CurrentTime and ServerStatus tick. (Sources run under
  // the lock, so they read the members directly.)
  if (auto r = space->set_value_source(node_id::numeric(2255), [self] {
        data_value v;
        v.value = variant::array(self->namespaces_, builtin_type::string);
        return v;
      });
      !r) {
    return r.err();
  }
  if (auto r = space->set_value_source(node_id::numeric(2258), [] {
        data_value v;
        const auto now = date_time::now();
        v.value = variant::scalar(now);
        v.source_timestamp = now;
        return v;
      });
      !r) {
    return r.err();
  }
  if (auto r = space->set_value_source(node_id::numeric(2256), [start, build] {
        server_status_data_type status;
        status.start_time = start;
        status.current_time = date_time::now();
        status.state = server_state::running;
        status.build_info = build;
        data_value v;
        v.value = variant::scalar(extension_object::from(std::move(status)));
        v.source_timestamp = date_time::now();
        return v;
      });
      !r) {
    return r.err();
  }
  return space;
}

}  // namespace castellan::ua
