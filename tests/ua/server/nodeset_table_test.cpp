// The generated node tables (src/ua/nodeset) against what the NodeSet2 files say.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>

#include "ua/binary/codec.h"
#include "ua/nodeset/nodeset.h"
#include "ua/types/generated.h"

namespace castellan::ua::nodeset {
namespace {

const node* find(const table& t, std::uint16_t ns, std::uint32_t id) {
  const auto it = std::lower_bound(t.nodes.begin(), t.nodes.end(), std::pair{ns, id}, [](const node& n, const auto& key) {
    return std::pair{n.ns, n.id} < key;
  });
  return it != t.nodes.end() && it->ns == ns && it->id == id ? &*it : nullptr;
}

// A reference from `from` to `to` of `type`, stated (forward) on `from` or (inverse) on `to`.
bool linked(const table& t, std::uint32_t from, std::uint32_t type, std::uint32_t to) {
  const auto has = [&](std::uint32_t on, std::uint32_t other, bool forward) {
    const node* n = find(t, 0, on);
    if (!n) return false;
    for (std::uint32_t i = 0; i < n->reference_count; ++i) {
      const auto& r = n->references[i];
      if (r.type_ns == 0 && r.type == type && r.target_ns == 0 && r.target == other && r.forward == forward) return true;
    }
    return false;
  };
  return has(from, to, true) || has(to, from, false);
}

variant decode_value(const node& n) {
  EXPECT_NE(n.value, nullptr) << n.browse_name;
  auto v = decode_all<variant>(byte_view(n.value, n.value_size), &standard_types());
  EXPECT_TRUE(v.ok()) << n.browse_name << ": " << (v.ok() ? "" : v.err().message);
  return v.ok() ? *v : variant{};
}

TEST(NodesetTable, Ns0HoldsEveryNodeAndReferenceOfTheXml) {
  const auto& t = ns0();
  EXPECT_STREQ(t.namespace_uri, "http://opcfoundation.org/UA/");
  EXPECT_TRUE(t.namespace_uris.empty());
  EXPECT_GT(t.source_node_count, 5000u);
  EXPECT_EQ(t.nodes.size(), t.source_node_count);
  std::uint64_t refs = 0;
  for (const auto& n : t.nodes) refs += n.reference_count;
  EXPECT_EQ(refs, t.source_reference_count);
  EXPECT_TRUE(t.value_fixups.empty());
}

TEST(NodesetTable, GdsHoldsEveryNodeAndReferenceOfTheXml) {
  const auto& t = gds();
  EXPECT_STREQ(t.namespace_uri, "http://opcfoundation.org/UA/GDS/");
  ASSERT_EQ(t.namespace_uris.size(), 1u);
  EXPECT_STREQ(t.namespace_uris[0], "http://opcfoundation.org/UA/GDS/");
  EXPECT_EQ(t.nodes.size(), t.source_node_count);
  std::uint64_t refs = 0;
  for (const auto& n : t.nodes) refs += n.reference_count;
  EXPECT_EQ(refs, t.source_reference_count);
}

TEST(NodesetTable, NodesAreSortedUniqueAndWellFormed) {
  for (const table* t : {&ns0(), &gds()}) {
    for (std::size_t i = 0; i < t->nodes.size(); ++i) {
      const auto& n = t->nodes[i];
      if (i > 0) {
        const auto& p = t->nodes[i - 1];
        EXPECT_LT(std::pair(p.ns, p.id), std::pair(n.ns, n.id));
      }
      EXPECT_NE(n.browse_name, nullptr);
      EXPECT_NE(n.display_name, nullptr);
      EXPECT_TRUE(n.node_class != 0 && (n.node_class & (n.node_class - 1)) == 0) << n.id;
      EXPECT_LE(n.ns, t->namespace_uris.size());
      if (n.node_class == 2 || n.node_class == 16) {
        EXPECT_NE(n.data_type, 0u) << n.id;
      }
    }
  }
}

TEST(NodesetTable, EveryReferenceTargetExists) {
  for (const table* t : {&ns0(), &gds()}) {
    for (const auto& n : t->nodes) {
      for (std::uint32_t i = 0; i < n.reference_count; ++i) {
        const auto& r = n.references[i];
        // ns 0 is the base namespace in both files; GDS's 1 is its own.
        const table& type_table = r.type_ns == 0 ? ns0() : *t;
        const table& target_table = r.target_ns == 0 ? ns0() : *t;
        const node* type = find(type_table, r.type_ns, r.type);
        ASSERT_NE(type, nullptr) << n.id << " reference type " << r.type;
        EXPECT_EQ(type->node_class, 32) << r.type;
        EXPECT_NE(find(target_table, r.target_ns, r.target), nullptr) << n.browse_name << " -> " << r.target_ns << ":" << r.target;
      }
    }
  }
}

TEST(NodesetTable, RootObjectsServerChain) {
  const auto& t = ns0();
  ASSERT_NE(find(t, 0, 84), nullptr);
  EXPECT_STREQ(find(t, 0, 84)->browse_name, "Root");
  EXPECT_STREQ(find(t, 0, 85)->browse_name, "Objects");
  EXPECT_STREQ(find(t, 0, 2253)->browse_name, "Server");
  EXPECT_TRUE(linked(t, 84, 35, 85));    // Root Organizes Objects
  EXPECT_TRUE(linked(t, 85, 35, 2253));  // Objects Organizes Server
  EXPECT_EQ(find(t, 0, 2253)->event_notifier, 1);
}

TEST(NodesetTable, ServerStatusHasItsComponents) {
  const auto& t = ns0();
  const node* status = find(t, 0, 2256);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->node_class, 2);
  EXPECT_EQ(status->data_type, 862u);  // ServerStatusDataType
  for (std::uint32_t c : {2257u, 2258u, 2259u, 2260u, 2992u, 2993u}) {
    EXPECT_TRUE(linked(t, 2256, 47, c)) << c;
  }
  EXPECT_TRUE(linked(t, 2253, 47, 2256));
  EXPECT_TRUE(linked(t, 2256, 40, 2138));  // HasTypeDefinition ServerStatusType
}

TEST(NodesetTable, AttributesComeThrough) {
  const auto& t = ns0();
  const node* organizes = find(t, 0, 35);
  ASSERT_NE(organizes, nullptr);
  EXPECT_EQ(organizes->node_class, 32);
  ASSERT_NE(organizes->inverse_name, nullptr);
  EXPECT_STREQ(organizes->inverse_name, "OrganizedBy");
  EXPECT_FALSE(organizes->symmetric);
  const node* references = find(t, 0, 31);
  EXPECT_TRUE(references->is_abstract);
  EXPECT_TRUE(references->symmetric);
  const node* namespace_array = find(t, 0, 2255);
  EXPECT_EQ(namespace_array->value_rank, 1);
  EXPECT_EQ(namespace_array->data_type, 12u);
  ASSERT_NE(namespace_array->array_dimensions, nullptr);
  EXPECT_STREQ(namespace_array->array_dimensions, "0");
  EXPECT_EQ(find(t, 0, 2255)->access_level, 1);
  EXPECT_TRUE(find(t, 0, 11492)->executable);  // GetMonitoredItems
  EXPECT_EQ(find(t, 0, 11492)->node_class, 4);
}

TEST(NodesetTable, EnumStringsDecode) {
  const node* strings = find(ns0(), 0, 7612);  // ServerState's EnumStrings
  ASSERT_NE(strings, nullptr);
  const auto v = decode_value(*strings);
  EXPECT_EQ(v.type, builtin_type::localized_text);
  ASSERT_TRUE(v.is_array);
  ASSERT_EQ(v.values.size(), 8u);
  EXPECT_EQ(std::get<localized_text>(v.values[0]).text, "Running");
  EXPECT_EQ(std::get<localized_text>(v.values[7]).text, "Unknown");
}

TEST(NodesetTable, ArgumentsDecodeAsStructures) {
  const node* inputs = find(ns0(), 0, 11493);  // Server.GetMonitoredItems.InputArguments
  ASSERT_NE(inputs, nullptr);
  EXPECT_STREQ(inputs->browse_name, "InputArguments");
  const auto v = decode_value(*inputs);
  ASSERT_EQ(v.type, builtin_type::extension_object);
  ASSERT_EQ(v.values.size(), 1u);
  const auto& eo = std::get<extension_object>(v.values[0]);
  EXPECT_EQ(eo.type_id, node_id::numeric(298));  // Argument, Default Binary
  const auto* a = eo.get<argument>();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "SubscriptionId");
  EXPECT_EQ(a->data_type, node_id::numeric(7));
  EXPECT_EQ(a->value_rank, -1);
}

TEST(NodesetTable, EveryValueDecodes) {
  std::size_t values = 0;
  for (const table* t : {&ns0(), &gds()}) {
    for (const auto& n : t->nodes) {
      if (!n.value) continue;
      ++values;
      auto v = decode_all<variant>(byte_view(n.value, n.value_size), &standard_types());
      ASSERT_TRUE(v.ok()) << n.ns << ":" << n.id << " " << n.browse_name << ": " << v.err().message;
      // Structures come out decoded, not as opaque bodies.
      for (const auto& item : v->values) {
        if (const auto* eo = std::get_if<extension_object>(&item)) {
          EXPECT_NE(eo->codec, nullptr) << n.id;
        }
      }
    }
  }
  EXPECT_GT(values, 1000u);
}

TEST(NodesetTable, GdsFixupsPointAtFileNamespaceIndexes) {
  const auto& t = gds();
  ASSERT_FALSE(t.value_fixups.empty());
  for (const auto& f : t.value_fixups) {
    ASSERT_LT(f.node_index, t.nodes.size());
    const auto& n = t.nodes[f.node_index];
    ASSERT_LE(f.offset + 2, n.value_size);
    std::uint16_t ns = 0;
    std::memcpy(&ns, n.value + f.offset, 2);
    EXPECT_EQ(ns, 1) << n.id;
  }
}

}  // namespace
}  // namespace castellan::ua::nodeset
