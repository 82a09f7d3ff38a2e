#pragma once
// The OPC UA information models castellan serves (the base namespace, GDS), as constant tables
// generated at build time from the OPC Foundation's NodeSet2 files by tools/gen_ua_nodeset.mjs.
// The address space (src/ua/server/address_space.h) loads them; nothing here allocates.
//
// Namespace indexes in a table are relative to its file: 0 is the OPC UA namespace and k >= 1
// is namespace_uris[k - 1]. The loader maps them onto the server's NamespaceArray, including
// the ones inside encoded values (see value_fixup). Only numeric NodeIds occur (the generator
// refuses anything else).

#include <cstdint>
#include <span>

namespace castellan::ua::nodeset {

// The NodeClass attribute values (Part 3 §8.29), a bit mask.
enum class node_class_bits : std::uint8_t {
  object = 1, variable = 2, method = 4, object_type = 8, variable_type = 16, reference_type = 32,
  data_type = 64, view = 128,
};

// One reference as the file states it (forward or inverse); the loader adds the other side.
struct reference {
  std::uint32_t type;
  std::uint32_t target;
  std::uint16_t type_ns;
  std::uint16_t target_ns;
  bool forward;
};

struct node {
  std::uint32_t id;
  std::uint16_t ns;
  std::uint8_t node_class;  // a node_class_bits value
  std::uint8_t access_level;  // AccessLevel (variables; 1 = CurrentRead unless the file says otherwise)
  const char* browse_name;  // UTF-8, never null
  const char* display_name;  // UTF-8, never null (the locale is always absent in these files)
  const char* description;  // UTF-8, or null
  const char* inverse_name;  // reference types; or null
  const char* array_dimensions;  // "0" or "2,3" as the file writes it; or null
  std::uint16_t browse_name_ns;
  std::uint16_t data_type_ns;
  std::uint32_t data_type;  // variables and variable types; 0 otherwise
  std::int32_t value_rank;  // -1 unless the file says otherwise
  double minimum_sampling_interval;
  std::uint8_t event_notifier;
  bool is_abstract;
  bool symmetric;
  bool executable;  // methods: true unless the file says otherwise
  bool historizing;
  bool contains_no_loops;
  // The Value as one UA-binary-encoded Variant (ExtensionObjects carry their Default Binary
  // encoding id), or null when the file gives none.
  const std::uint8_t* value;
  std::uint32_t value_size;
  const reference* references;
  std::uint32_t reference_count;
};

// A namespace index (UInt16, little-endian, file-relative, never 0) inside nodes[node_index]'s
// encoded value at byte `offset`: the loader rewrites it to the server's index. Sorted by
// node_index.
struct value_fixup {
  std::uint32_t node_index;
  std::uint32_t offset;
};

struct table {
  const char* namespace_uri;  // the model the file defines
  std::span<const char* const> namespace_uris;  // the file's NamespaceUris: index k >= 1 is [k - 1]
  std::span<const node> nodes;  // sorted by (ns, id)
  std::span<const value_fixup> value_fixups;
  // Counted by the generator straight from the XML text, for the sanity tests.
  std::uint32_t source_node_count;
  std::uint32_t source_reference_count;
};

// Opc.Ua.NodeSet2.xml: namespace 0.
const table& ns0();
// Opc.Ua.Gds.NodeSet2.xml: http://opcfoundation.org/UA/GDS/ (needs ns0).
const table& gds();

}  // namespace castellan::ua::nodeset
