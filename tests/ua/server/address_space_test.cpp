// The address space: loading, Browse / BrowseNext, TranslateBrowsePaths, Read, Write and the
// method checks of Call.
#include "ua/server/address_space.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ua/nodeset/nodeset.h"

namespace castellan::ua {
namespace {

constexpr std::uint32_t organizes = 35, has_component = 47, has_property = 46, hierarchical = 33, has_child = 34,
                        has_type_definition = 40;

node_id n0(std::uint32_t id) { return node_id::numeric(id); }

session_context user(std::string name = "operator") {
  session_context c;
  c.session_id = node_id(1, "session-" + name);
  c.user = std::move(name);
  c.anonymous = false;
  return c;
}

session_context anonymous() {
  session_context c;
  c.session_id = node_id(1, std::string("session-anonymous"));
  return c;
}

std::unique_ptr<address_space> make_space(address_space_limits limits = {}) {
  auto space = address_space::create_standard(server_identity{"urn:test:server", "urn:castellan", "castellan test"}, limits);
  EXPECT_TRUE(space.ok()) << (space.ok() ? "" : space.err().message);
  return space.ok() ? std::move(*space) : nullptr;
}

// One shared, unmodified standard address space for the read-only tests.
address_space& standard() {
  static const auto space = make_space();
  return *space;
}

browse_description describe(node_id id, browse_direction direction = browse_direction::forward, node_id type = n0(hierarchical),
                            bool subtypes = true, std::uint32_t class_mask = 0,
                            std::uint32_t result_mask = browse_result_bits::all) {
  browse_description d;
  d.node_id = std::move(id);
  d.browse_direction = direction;
  d.reference_type_id = std::move(type);
  d.include_subtypes = subtypes;
  d.node_class_mask = class_mask;
  d.result_mask = result_mask;
  return d;
}

std::vector<node_id> targets(const browse_result& r) {
  std::vector<node_id> out;
  for (const auto& d : r.references) out.push_back(d.node_id.id);
  return out;
}

bool contains(const std::vector<node_id>& ids, const node_id& id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

browse_result browse_all(address_space& space, const browse_description& d) {
  continuation_store points;
  return space.browse(d, 0, points, user());
}

read_value_id attr(node_id id, attribute a, std::string range = {}) {
  read_value_id r;
  r.node_id = std::move(id);
  r.attribute_id = static_cast<std::uint32_t>(a);
  r.index_range = std::move(range);
  return r;
}

data_value read(address_space& space, node_id id, attribute a, std::string range = {},
                timestamps_to_return ts = timestamps_to_return::neither, const session_context& who = user()) {
  return space.read(attr(std::move(id), a, std::move(range)), ts, who);
}

status_code status_of(const data_value& v) { return v.status.value_or(status_code::Good); }

relative_path_element step(std::string name, node_id type = n0(hierarchical), bool inverse = false, bool subtypes = true,
                           std::uint16_t ns = 0) {
  relative_path_element e;
  e.reference_type_id = std::move(type);
  e.is_inverse = inverse;
  e.include_subtypes = subtypes;
  e.target_name = qualified_name{ns, std::move(name)};
  return e;
}

browse_path path(node_id start, std::vector<relative_path_element> elements) {
  browse_path p;
  p.starting_node = std::move(start);
  p.relative_path.elements = std::move(elements);
  return p;
}

write_value write_of(node_id id, variant v, std::string range = {}) {
  write_value w;
  w.node_id = std::move(id);
  w.attribute_id = static_cast<std::uint32_t>(attribute::value);
  w.index_range = std::move(range);
  w.value.value = std::move(v);
  return w;
}

argument arg(std::string name, std::uint32_t type, std::int32_t rank = -1) {
  argument a;
  a.name = std::move(name);
  a.data_type = n0(type);
  a.value_rank = rank;
  return a;
}

// ---------------------------------------------------------------------------------------------
// Loading and namespaces

TEST(AddressSpace, StandardNamespaces) {
  auto& space = standard();
  const std::vector<std::string> expected{ua_namespace_uri, castellan_namespace_uri, gds_namespace_uri};
  EXPECT_EQ(space.namespaces(), expected);
  const auto v = read(space, n0(2255), attribute::value);
  ASSERT_TRUE(v.value);
  EXPECT_EQ(*v.value, variant::array(expected, builtin_type::string));
  EXPECT_EQ(space.find_namespace(gds_namespace_uri), std::optional<std::uint16_t>(2));
}

TEST(AddressSpace, HoldsEveryTableNode) {
  EXPECT_EQ(standard().size(), nodeset::ns0().nodes.size() + nodeset::gds().nodes.size());
  EXPECT_TRUE(standard().contains(node_id(2, 141)));  // GDS Directory, mapped to namespace 2
  EXPECT_FALSE(standard().contains(node_id(1, 141)));
}

TEST(AddressSpace, LoadingTwiceFailsAndAddsNothing) {
  address_space space;
  ASSERT_TRUE(space.load(nodeset::ns0()).ok());
  const auto size = space.size();
  const auto again = space.load(nodeset::ns0());
  EXPECT_EQ(again.code(), status_code::BadNodeIdExists);
  EXPECT_EQ(space.size(), size);
}

TEST(AddressSpace, GdsNeedsNs0) {
  address_space space;
  EXPECT_EQ(space.load(nodeset::gds()).code(), status_code::BadNodeIdUnknown);
  EXPECT_EQ(space.size(), 0u);
  EXPECT_EQ(space.namespaces().size(), 2u);
}

TEST(AddressSpace, GdsValuesUseTheMappedNamespace) {
  // Directory.RegisterApplication's OutputArguments... of FindApplications: ApplicationRecordDataType, ns=1;i=1 in the file.
  const auto v = read(standard(), node_id(2, 17), attribute::value);
  ASSERT_TRUE(v.value);
  ASSERT_EQ(v.value->values.size(), 1u);
  const auto* a = std::get<extension_object>(v.value->values[0]).get<argument>();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->data_type, node_id(2, 1));
}

// ---------------------------------------------------------------------------------------------
// Browse

TEST(Browse, RootObjectsServerByForwardHierarchicalReferences) {
  auto& space = standard();
  const auto root = browse_all(space, describe(n0(ns0_id::root)));
  EXPECT_EQ(root.status_code, status_code::Good);
  EXPECT_TRUE(contains(targets(root), n0(ns0_id::objects)));
  EXPECT_TRUE(contains(targets(root), n0(ns0_id::types)));
  EXPECT_TRUE(contains(targets(root), n0(ns0_id::views)));
  const auto objects = browse_all(space, describe(n0(ns0_id::objects)));
  EXPECT_TRUE(contains(targets(objects), n0(ns0_id::server)));
  EXPECT_TRUE(contains(targets(objects), node_id(2, 141)));  // GDS Directory
  const auto server = browse_all(space, describe(n0(ns0_id::server)));
  EXPECT_TRUE(contains(targets(server), n0(2256)));
  EXPECT_TRUE(contains(targets(server), n0(2255)));
}

TEST(Browse, InverseAndBoth) {
  auto& space = standard();
  const auto inverse = browse_all(space, describe(n0(ns0_id::server), browse_direction::inverse, n0(organizes), false));
  ASSERT_EQ(inverse.references.size(), 1u);
  EXPECT_EQ(inverse.references[0].node_id.id, n0(ns0_id::objects));
  EXPECT_FALSE(inverse.references[0].is_forward);
  EXPECT_EQ(inverse.references[0].reference_type_id, n0(organizes));

  const auto forward = browse_all(space, describe(n0(2256), browse_direction::forward, node_id{}));
  const auto backward = browse_all(space, describe(n0(2256), browse_direction::inverse, node_id{}));
  const auto both = browse_all(space, describe(n0(2256), browse_direction::both, node_id{}));
  EXPECT_EQ(both.references.size(), forward.references.size() + backward.references.size());
  EXPECT_TRUE(contains(targets(backward), n0(ns0_id::server)));
  // Inverse references exist for references only stated forward in the file.
  const auto has_type = browse_all(space, describe(n0(2138), browse_direction::inverse, n0(has_type_definition), false));
  EXPECT_TRUE(contains(targets(has_type), n0(2256)));
}

TEST(Browse, ReferenceTypeFilterAndSubtypes) {
  auto& space = standard();
  // Root's references are Organizes: HierarchicalReferences matches only with subtypes.
  EXPECT_TRUE(browse_all(space, describe(n0(ns0_id::root), browse_direction::forward, n0(hierarchical), false)).references.empty());
  EXPECT_FALSE(browse_all(space, describe(n0(ns0_id::root), browse_direction::forward, n0(hierarchical), true)).references.empty());
  const auto children = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, n0(has_child), true));
  EXPECT_TRUE(contains(targets(children), n0(2256)));  // HasComponent
  EXPECT_TRUE(contains(targets(children), n0(2255)));  // HasProperty
  const auto properties = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, n0(has_property), false));
  EXPECT_TRUE(contains(targets(properties), n0(2255)));
  EXPECT_FALSE(contains(targets(properties), n0(2256)));
  for (const auto& r : properties.references) EXPECT_EQ(r.reference_type_id, n0(has_property));
  // No filter: everything, type definition included.
  const auto all = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, node_id{}));
  EXPECT_TRUE(contains(targets(all), n0(2004)));
}

TEST(Browse, NodeClassMask) {
  auto& space = standard();
  const auto methods = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, n0(has_component), true, 4));
  ASSERT_FALSE(methods.references.empty());
  for (const auto& r : methods.references) EXPECT_EQ(r.node_class, node_class::method);
  EXPECT_TRUE(contains(targets(methods), n0(11492)));  // GetMonitoredItems
  const auto variables = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, n0(has_component), true, 2));
  EXPECT_TRUE(contains(targets(variables), n0(2256)));
  EXPECT_FALSE(contains(targets(variables), n0(11492)));
  const auto both = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, n0(has_component), true, 2 | 4));
  EXPECT_EQ(both.references.size(), methods.references.size() + variables.references.size());
}

TEST(Browse, ResultMask) {
  auto& space = standard();
  const auto bare = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, n0(has_component), false, 2, 0));
  ASSERT_FALSE(bare.references.empty());
  for (const auto& r : bare.references) {
    EXPECT_FALSE(r.node_id.id.is_null());
    EXPECT_TRUE(r.reference_type_id.is_null());
    EXPECT_TRUE(r.browse_name.name.empty());
    EXPECT_TRUE(r.display_name.text.empty());
    EXPECT_EQ(r.node_class, node_class::unspecified);
    EXPECT_TRUE(r.type_definition.id.is_null());
  }
  const auto full = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, n0(has_component), false, 2));
  const auto it = std::find_if(full.references.begin(), full.references.end(),
                               [](const reference_description& r) { return r.node_id.id == n0(2256); });
  ASSERT_NE(it, full.references.end());
  EXPECT_EQ(it->reference_type_id, n0(has_component));
  EXPECT_TRUE(it->is_forward);
  EXPECT_EQ(it->browse_name, (qualified_name{0, "ServerStatus"}));
  EXPECT_EQ(it->display_name.text, "ServerStatus");
  EXPECT_EQ(it->node_class, node_class::variable);
  EXPECT_EQ(it->type_definition.id, n0(2138));  // ServerStatusType
  // Only the browse name.
  const auto names = browse_all(space, describe(n0(ns0_id::server), browse_direction::forward, n0(has_component), false, 2,
                                                browse_result_bits::browse_name));
  for (const auto& r : names.references) {
    EXPECT_FALSE(r.browse_name.name.empty());
    EXPECT_TRUE(r.display_name.text.empty());
  }
}

TEST(Browse, Errors) {
  auto& space = standard();
  EXPECT_EQ(browse_all(space, describe(node_id(0, 999'999'999))).status_code, status_code::BadNodeIdUnknown);
  EXPECT_EQ(browse_all(space, describe(n0(ns0_id::root), browse_direction::forward, n0(ns0_id::objects))).status_code,
            status_code::BadReferenceTypeIdInvalid);
  EXPECT_EQ(browse_all(space, describe(n0(ns0_id::root), browse_direction::forward, n0(123456789))).status_code,
            status_code::BadReferenceTypeIdInvalid);
  EXPECT_EQ(browse_all(space, describe(n0(ns0_id::root), browse_direction::invalid)).status_code,
            status_code::BadBrowseDirectionInvalid);

  browse_request empty;
  EXPECT_EQ(space.browse(empty, user()).response_header.service_result, status_code::BadNothingToDo);
  browse_request with_view;
  with_view.nodes_to_browse.push_back(describe(n0(ns0_id::root)));
  with_view.view.view_id = n0(ns0_id::views);
  EXPECT_EQ(space.browse(with_view, user()).response_header.service_result, status_code::BadViewIdUnknown);
}

TEST(Browse, WholeRequest) {
  auto& space = standard();
  browse_request q;
  q.request_header.request_handle = 42;
  q.nodes_to_browse = {describe(n0(ns0_id::root)), describe(node_id(0, 999'999'999))};
  const auto r = space.browse(q, user());
  EXPECT_EQ(r.response_header.service_result, status_code::Good);
  EXPECT_EQ(r.response_header.request_handle, 42u);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].status_code, status_code::Good);
  EXPECT_EQ(r.results[1].status_code, status_code::BadNodeIdUnknown);
}

// ---------------------------------------------------------------------------------------------
// Continuation points

TEST(ContinuationPoints, OneReferenceAtATimeUntilDone) {
  auto& space = standard();
  const auto d = describe(n0(ns0_id::server), browse_direction::both, node_id{});
  const auto everything = browse_all(space, d);
  ASSERT_GT(everything.references.size(), 5u);
  EXPECT_TRUE(everything.continuation_point.empty());

  continuation_store points(4);
  auto r = space.browse(d, 1, points, user());
  std::vector<node_id> seen = targets(r);
  EXPECT_EQ(seen.size(), 1u);
  std::size_t rounds = 0;
  while (!r.continuation_point.empty()) {
    EXPECT_EQ(points.size(), 1u);
    const auto point = r.continuation_point;
    r = space.browse_next(point, false, points);
    ASSERT_EQ(r.status_code, status_code::Good);
    ASSERT_EQ(r.references.size(), 1u);
    seen.push_back(r.references[0].node_id.id);
    // The old point is spent.
    EXPECT_EQ(space.browse_next(point, false, points).status_code, status_code::BadContinuationPointInvalid);
    ASSERT_LT(++rounds, 1000u);
  }
  EXPECT_EQ(points.size(), 0u);
  EXPECT_EQ(seen, targets(everything));
}

TEST(ContinuationPoints, ReleaseAndInvalid) {
  auto& space = standard();
  continuation_store points(4);
  const auto r = space.browse(describe(n0(ns0_id::server), browse_direction::forward, node_id{}), 2, points, user());
  ASSERT_EQ(r.references.size(), 2u);
  ASSERT_FALSE(r.continuation_point.empty());
  const auto released = space.browse_next(r.continuation_point, true, points);
  EXPECT_EQ(released.status_code, status_code::Good);
  EXPECT_TRUE(released.references.empty());
  EXPECT_TRUE(released.continuation_point.empty());
  EXPECT_EQ(points.size(), 0u);
  EXPECT_EQ(space.browse_next(r.continuation_point, false, points).status_code, status_code::BadContinuationPointInvalid);
  EXPECT_EQ(space.browse_next(bytes{1, 2, 3}, false, points).status_code, status_code::BadContinuationPointInvalid);
  EXPECT_EQ(space.browse_next(bytes{}, true, points).status_code, status_code::BadContinuationPointInvalid);
}

TEST(ContinuationPoints, RunningOut) {
  auto& space = standard();
  continuation_store points(2);
  const auto d = describe(n0(ns0_id::server), browse_direction::forward, node_id{});
  EXPECT_FALSE(space.browse(d, 1, points, user()).continuation_point.empty());
  EXPECT_FALSE(space.browse(d, 1, points, user()).continuation_point.empty());
  const auto third = space.browse(d, 1, points, user());
  EXPECT_EQ(third.status_code, status_code::BadNoContinuationPoints);
  EXPECT_TRUE(third.continuation_point.empty());
  // A browse that needs no point still works.
  EXPECT_EQ(space.browse(d, 0, points, user()).status_code, status_code::Good);
}

TEST(ContinuationPoints, KeptPerSessionByTheWholeRequests) {
  auto space = make_space(address_space_limits{1, 1000, 100});
  browse_request q;
  q.requested_max_references_per_node = 1;
  q.nodes_to_browse = {describe(n0(ns0_id::server), browse_direction::forward, node_id{})};
  const auto a = space->browse(q, user("a"));
  ASSERT_FALSE(a.results[0].continuation_point.empty());
  // Session b has its own point; a's is unknown to it.
  const auto b = space->browse(q, user("b"));
  ASSERT_FALSE(b.results[0].continuation_point.empty());
  browse_next_request next;
  next.continuation_points = {a.results[0].continuation_point};
  EXPECT_EQ(space->browse_next(next, user("b")).results[0].status_code, status_code::BadContinuationPointInvalid);
  // a's only point is in use: a second browse cannot get one.
  EXPECT_EQ(space->browse(q, user("a")).results[0].status_code, status_code::BadNoContinuationPoints);
  const auto continued = space->browse_next(next, user("a"));
  EXPECT_EQ(continued.results[0].status_code, status_code::Good);
  EXPECT_FALSE(continued.results[0].continuation_point.empty());  // the rest, behind a new point
  // Closing the session drops its points.
  space->release_continuation_points(user("a"));
  const auto again = space->browse(q, user("a"));
  ASSERT_FALSE(again.results[0].continuation_point.empty());
  space->release_continuation_points(user("a"));
  next.continuation_points = {again.results[0].continuation_point};
  EXPECT_EQ(space->browse_next(next, user("a")).results[0].status_code, status_code::BadContinuationPointInvalid);
  browse_next_request none;
  EXPECT_EQ(space->browse_next(none, user("a")).response_header.service_result, status_code::BadNothingToDo);
}

// ---------------------------------------------------------------------------------------------
// TranslateBrowsePathsToNodeIds

TEST(Translate, ForwardPath) {
  const auto r = standard().translate(path(n0(ns0_id::root), {step("Objects"), step("Server"), step("ServerStatus"), step("CurrentTime")}));
  EXPECT_EQ(r.status_code, status_code::Good);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].target_id.id, n0(2258));
  EXPECT_EQ(r.targets[0].remaining_path_index, 0xFFFFFFFFu);
}

TEST(Translate, ReferenceTypesSubtypesAndInverse) {
  auto& space = standard();
  EXPECT_EQ(space.translate(path(n0(ns0_id::objects), {step("Server", n0(organizes), false, false)})).targets.at(0).target_id.id,
            n0(ns0_id::server));
  EXPECT_EQ(space.translate(path(n0(ns0_id::objects), {step("Server", n0(hierarchical), false, false)})).status_code,
            status_code::BadNoMatch);
  EXPECT_EQ(space.translate(path(n0(2256), {step("Server", n0(has_component), true)})).targets.at(0).target_id.id,
            n0(ns0_id::server));
  EXPECT_EQ(space.translate(path(n0(2256), {step("Server", n0(has_component), false)})).status_code, status_code::BadNoMatch);
  // No reference type: any reference.
  EXPECT_EQ(space.translate(path(n0(ns0_id::server), {step("NamespaceArray", node_id{})})).targets.at(0).target_id.id, n0(2255));
  // Names are qualified: the GDS Directory is 2:Directory.
  EXPECT_EQ(space.translate(path(n0(ns0_id::objects), {step("Directory", n0(hierarchical), false, true, 2)})).targets.at(0).target_id.id,
            node_id(2, 141));
  EXPECT_EQ(space.translate(path(n0(ns0_id::objects), {step("Directory")})).status_code, status_code::BadNoMatch);
  // An empty last name: every target.
  const auto any = space.translate(path(n0(ns0_id::server), {step("ServerStatus"), step("", n0(has_component), false, false)}));
  EXPECT_EQ(any.status_code, status_code::Good);
  EXPECT_EQ(any.targets.size(), 6u);
}

TEST(Translate, Errors) {
  auto& space = standard();
  EXPECT_EQ(space.translate(path(n0(ns0_id::root), {})).status_code, status_code::BadNothingToDo);
  EXPECT_EQ(space.translate(path(node_id(0, 999'999'999), {step("Objects")})).status_code, status_code::BadNodeIdUnknown);
  EXPECT_EQ(space.translate(path(n0(ns0_id::root), {step(""), step("Server")})).status_code, status_code::BadBrowseNameInvalid);
  EXPECT_EQ(space.translate(path(n0(ns0_id::root), {step("Nothing")})).status_code, status_code::BadNoMatch);
  EXPECT_EQ(space.translate(path(n0(ns0_id::root), {step("Objects"), step("Nothing")})).status_code, status_code::BadNoMatch);
  EXPECT_EQ(space.translate(path(n0(ns0_id::root), {step("Objects", n0(ns0_id::server))})).status_code,
            status_code::BadReferenceTypeIdInvalid);
  translate_browse_paths_to_node_ids_request q;
  EXPECT_EQ(space.translate(q, user()).response_header.service_result, status_code::BadNothingToDo);
  q.browse_paths = {path(n0(ns0_id::root), {step("Objects")}), path(n0(ns0_id::root), {step("Nope")})};
  const auto r = space.translate(q, user());
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].status_code, status_code::Good);
  EXPECT_EQ(r.results[1].status_code, status_code::BadNoMatch);
}

// ---------------------------------------------------------------------------------------------
// Read

// Which attributes each node class has (Part 3 §5.9 table), among the ones castellan keeps.
std::set<attribute> attributes_of(node_class cls) {
  std::set<attribute> out{attribute::node_id,   attribute::node_class, attribute::browse_name,    attribute::display_name,
                          attribute::description, attribute::write_mask, attribute::user_write_mask};
  switch (cls) {
    case node_class::object: out.insert(attribute::event_notifier); break;
    case node_class::variable:
      out.insert({attribute::value, attribute::data_type, attribute::value_rank, attribute::array_dimensions,
                  attribute::access_level, attribute::user_access_level, attribute::minimum_sampling_interval,
                  attribute::historizing, attribute::access_level_ex});
      break;
    case node_class::method: out.insert({attribute::executable, attribute::user_executable}); break;
    case node_class::object_type: out.insert(attribute::is_abstract); break;
    case node_class::variable_type:
      out.insert({attribute::value, attribute::data_type, attribute::value_rank, attribute::array_dimensions,
                  attribute::is_abstract});
      break;
    case node_class::reference_type: out.insert({attribute::is_abstract, attribute::symmetric, attribute::inverse_name}); break;
    case node_class::data_type: out.insert(attribute::is_abstract); break;
    case node_class::view: out.insert({attribute::event_notifier, attribute::contains_no_loops}); break;
    default: break;
  }
  return out;
}

TEST(Read, EveryAttributeOfEveryNodeClass) {
  auto& space = standard();
  const std::vector<std::pair<node_id, node_class>> samples{
      {n0(ns0_id::server), node_class::object},      {n0(2256), node_class::variable},
      {n0(11492), node_class::method},               {n0(2004), node_class::object_type},
      {n0(63), node_class::variable_type},           {n0(organizes), node_class::reference_type},
      {n0(852), node_class::data_type},
  };
  for (const auto& [id, cls] : samples) {
    const auto expected = attributes_of(cls);
    for (std::uint32_t a = 0; a <= 28; ++a) {
      read_value_id r;
      r.node_id = id;
      r.attribute_id = a;
      const auto v = space.read(r, timestamps_to_return::neither, user());
      const bool has = a >= 1 && a <= 27 && expected.count(static_cast<attribute>(a));
      if (has) {
        EXPECT_EQ(status_of(v), status_code::Good) << id.to_string() << " attribute " << a;
        EXPECT_TRUE(v.value) << id.to_string() << " attribute " << a;
      } else {
        EXPECT_EQ(status_of(v), status_code::BadAttributeIdInvalid) << id.to_string() << " attribute " << a;
        EXPECT_FALSE(v.value);
      }
    }
    EXPECT_EQ(read(space, id, attribute::node_id).value, variant::scalar(id));
    EXPECT_EQ(read(space, id, attribute::node_class).value, variant::scalar(static_cast<std::int32_t>(cls)));
  }
}

TEST(Read, AttributeValues) {
  auto& space = standard();
  EXPECT_EQ(read(space, n0(ns0_id::server), attribute::browse_name).value, variant::scalar(qualified_name{0, "Server"}));
  EXPECT_EQ(read(space, n0(ns0_id::server), attribute::display_name).value, variant::scalar(localized_text{"", "Server"}));
  EXPECT_EQ(read(space, n0(ns0_id::server), attribute::event_notifier).value, variant::scalar(std::uint8_t{1}));
  EXPECT_EQ(read(space, n0(ns0_id::server), attribute::write_mask).value, variant::scalar(std::uint32_t{0}));
  EXPECT_EQ(read(space, n0(organizes), attribute::inverse_name).value, variant::scalar(localized_text{"", "OrganizedBy"}));
  EXPECT_EQ(read(space, n0(organizes), attribute::symmetric).value, variant::scalar(false));
  EXPECT_EQ(read(space, n0(ns0_id::references), attribute::symmetric).value, variant::scalar(true));
  EXPECT_EQ(read(space, n0(ns0_id::references), attribute::is_abstract).value, variant::scalar(true));
  EXPECT_EQ(read(space, n0(2004), attribute::is_abstract).value, variant::scalar(false));
  EXPECT_EQ(read(space, n0(2255), attribute::data_type).value, variant::scalar(n0(12)));
  EXPECT_EQ(read(space, n0(2255), attribute::value_rank).value, variant::scalar(std::int32_t{1}));
  EXPECT_EQ(read(space, n0(2255), attribute::array_dimensions).value,
            variant::array(std::vector<std::uint32_t>{0}, builtin_type::uint32));
  EXPECT_EQ(read(space, n0(2256), attribute::array_dimensions).value, variant::array(std::vector<std::uint32_t>{}, builtin_type::uint32));
  EXPECT_EQ(read(space, n0(2255), attribute::access_level).value, variant::scalar(std::uint8_t{1}));
  EXPECT_EQ(read(space, n0(2255), attribute::user_access_level).value, variant::scalar(std::uint8_t{1}));
  EXPECT_EQ(read(space, n0(2255), attribute::historizing).value, variant::scalar(false));
  EXPECT_EQ(read(space, n0(2255), attribute::minimum_sampling_interval).value, variant::scalar(0.0));
  EXPECT_EQ(read(space, n0(11492), attribute::executable).value, variant::scalar(true));
  EXPECT_EQ(read(space, n0(11492), attribute::user_executable).value, variant::scalar(true));
  const auto description = read(space, n0(852), attribute::description);
  EXPECT_EQ(status_of(description), status_code::Good);
  // Not kept: DataTypeDefinition and the role attributes.
  EXPECT_EQ(status_of(read(space, n0(852), attribute::data_type_definition)), status_code::BadAttributeIdInvalid);
  EXPECT_EQ(status_of(read(space, n0(ns0_id::server), attribute::role_permissions)), status_code::BadAttributeIdInvalid);
}

TEST(Read, ServerValues) {
  auto& space = standard();
  const auto status = read(space, n0(2256), attribute::value);
  ASSERT_TRUE(status.value);
  const auto* s = status.value->get_if<extension_object>();
  ASSERT_NE(s, nullptr);
  const auto* server_status = s->get<server_status_data_type>();
  ASSERT_NE(server_status, nullptr);
  EXPECT_EQ(server_status->state, server_state::running);
  EXPECT_EQ(server_status->build_info.product_uri, "urn:castellan");
  EXPECT_EQ(server_status->build_info.product_name, "castellan test");
  EXPECT_FALSE(server_status->build_info.software_version.empty());

  const auto first = read(space, n0(2258), attribute::value);
  const auto second = read(space, n0(2258), attribute::value);
  ASSERT_TRUE(first.value && second.value);
  ASSERT_NE(first.value->get_if<date_time>(), nullptr);
  ASSERT_NE(second.value->get_if<date_time>(), nullptr);
  EXPECT_LE(*first.value->get_if<date_time>(), *second.value->get_if<date_time>());
  EXPECT_EQ(read(space, n0(2259), attribute::value).value, variant::scalar(std::int32_t{0}));
  EXPECT_EQ(read(space, n0(2254), attribute::value).value,
            variant::array(std::vector<std::string>{"urn:test:server"}, builtin_type::string));
  EXPECT_EQ(read(space, n0(2262), attribute::value).value, variant::scalar(std::string("urn:castellan")));
  // A variable the model gives no value: Good, null.
  const auto none = read(space, n0(12885), attribute::value);
  EXPECT_EQ(status_of(none), status_code::Good);
}

TEST(Read, IndexRanges) {
  auto& space = standard();
  const node_id strings = n0(7612);  // ServerState's EnumStrings: Running, Failed, NoConfiguration, …, Unknown
  const auto two = read(space, strings, attribute::value, "1:2");
  ASSERT_EQ(status_of(two), status_code::Good);
  ASSERT_EQ(two.value->values.size(), 2u);
  EXPECT_TRUE(two.value->is_array);
  EXPECT_EQ(std::get<localized_text>(two.value->values[0]).text, "Failed");
  EXPECT_EQ(std::get<localized_text>(two.value->values[1]).text, "NoConfiguration");
  const auto last = read(space, strings, attribute::value, "7");
  ASSERT_EQ(last.value->values.size(), 1u);
  EXPECT_EQ(std::get<localized_text>(last.value->values[0]).text, "Unknown");
  EXPECT_EQ(read(space, strings, attribute::value, "6:100").value->values.size(), 2u);  // clipped
  EXPECT_EQ(status_of(read(space, strings, attribute::value, "8")), status_code::BadIndexRangeNoData);
  EXPECT_EQ(status_of(read(space, strings, attribute::value, "2:1")), status_code::BadIndexRangeInvalid);
  EXPECT_EQ(status_of(read(space, strings, attribute::value, "1:1")), status_code::BadIndexRangeInvalid);
  EXPECT_EQ(status_of(read(space, strings, attribute::value, "x")), status_code::BadIndexRangeInvalid);
  EXPECT_EQ(status_of(read(space, strings, attribute::value, "1,")), status_code::BadIndexRangeInvalid);
  EXPECT_EQ(status_of(read(space, strings, attribute::value, "-1")), status_code::BadIndexRangeInvalid);
  // A scalar that is not a string has no elements.
  EXPECT_EQ(status_of(read(space, n0(2259), attribute::value, "0")), status_code::BadIndexRangeNoData);
  // Strings are arrays of characters; arrays of strings take two dimensions.
  EXPECT_EQ(read(space, n0(2262), attribute::value, "0:2").value, variant::scalar(std::string("urn")));
  const auto ns = read(space, n0(2255), attribute::value, "0,7:12");
  ASSERT_EQ(status_of(ns), status_code::Good);
  EXPECT_EQ(ns.value, variant::array(std::vector<std::string>{"opcfou"}, builtin_type::string));
}

TEST(Read, ParseIndexRange) {
  auto r = parse_index_range("3");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].low, 3u);
  EXPECT_EQ((*r)[0].high, 3u);
  r = parse_index_range("1:4,0:2");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].high, 2u);
  for (const char* bad : {"", ":", "1:", ":2", "3:3", "4:2", "1,,2", "a", "1 :2", "99999999999"}) {
    EXPECT_EQ(parse_index_range(bad).code(), status_code::BadIndexRangeInvalid) << bad;
  }
}

TEST(Read, Timestamps) {
  auto& space = standard();
  const auto source = read(space, n0(2258), attribute::value, {}, timestamps_to_return::source);
  EXPECT_TRUE(source.source_timestamp);
  EXPECT_FALSE(source.server_timestamp);
  const auto server = read(space, n0(2258), attribute::value, {}, timestamps_to_return::server);
  EXPECT_FALSE(server.source_timestamp);
  EXPECT_TRUE(server.server_timestamp);
  const auto both = read(space, n0(2258), attribute::value, {}, timestamps_to_return::both);
  EXPECT_TRUE(both.source_timestamp);
  EXPECT_TRUE(both.server_timestamp);
  const auto neither = read(space, n0(2258), attribute::value, {}, timestamps_to_return::neither);
  EXPECT_FALSE(neither.source_timestamp);
  EXPECT_FALSE(neither.server_timestamp);
  // Static values carry the time they were set.
  EXPECT_TRUE(read(space, n0(2262), attribute::value, {}, timestamps_to_return::source).source_timestamp);
  // Other attributes have no source timestamp.
  const auto name = read(space, n0(2258), attribute::browse_name, {}, timestamps_to_return::both);
  EXPECT_FALSE(name.source_timestamp);
  EXPECT_TRUE(name.server_timestamp);
}

TEST(Read, Errors) {
  auto& space = standard();
  EXPECT_EQ(status_of(read(space, node_id(0, 999'999'999), attribute::node_id)), status_code::BadNodeIdUnknown);
  EXPECT_EQ(status_of(read(space, node_id(7, 84), attribute::node_id)), status_code::BadNodeIdUnknown);
  auto encoded = attr(n0(2256), attribute::value);
  encoded.data_encoding = qualified_name{0, "Default XML"};
  EXPECT_EQ(status_of(space.read(encoded, timestamps_to_return::neither, user())), status_code::BadDataEncodingUnsupported);
  encoded.data_encoding = qualified_name{0, "Default Binary"};
  EXPECT_EQ(status_of(space.read(encoded, timestamps_to_return::neither, user())), status_code::Good);
  auto name = attr(n0(2256), attribute::browse_name);
  name.data_encoding = qualified_name{0, "Default Binary"};
  EXPECT_EQ(status_of(space.read(name, timestamps_to_return::neither, user())), status_code::BadDataEncodingInvalid);

  read_request q;
  q.request_header.request_handle = 7;
  EXPECT_EQ(space.read(q, user()).response_header.service_result, status_code::BadNothingToDo);
  q.nodes_to_read = {attr(n0(2253), attribute::browse_name), attr(node_id(0, 999'999'999), attribute::browse_name)};
  q.max_age = -1;
  EXPECT_EQ(space.read(q, user()).response_header.service_result, status_code::BadMaxAgeInvalid);
  q.max_age = 0;
  q.timestamps_to_return = timestamps_to_return::invalid;
  EXPECT_EQ(space.read(q, user()).response_header.service_result, status_code::BadTimestampsToReturnInvalid);
  q.timestamps_to_return = timestamps_to_return::both;
  const auto r = space.read(q, user());
  EXPECT_EQ(r.response_header.service_result, status_code::Good);
  EXPECT_EQ(r.response_header.request_handle, 7u);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].value, variant::scalar(qualified_name{0, "Server"}));
  EXPECT_EQ(status_of(r.results[1]), status_code::BadNodeIdUnknown);
  auto small = make_space(address_space_limits{16, 1000, 1});
  EXPECT_EQ(small->read(q, user()).response_header.service_result, status_code::BadTooManyOperations);
}

// ---------------------------------------------------------------------------------------------
// Write

class Write : public ::testing::Test {
 protected:
  void SetUp() override {
    space = make_space();
    ASSERT_TRUE(space);
    ASSERT_TRUE(space->add_object({node_id(1, "device"), n0(ns0_id::objects), n0(organizes), {1, "Device"}}).ok());
    add("int", n0(6), variant::scalar(std::int32_t{5}));
    add("number", n0(26), variant::scalar(1.5));
    add("state", n0(852), variant::scalar(std::int32_t{0}));
    add("time", n0(294), variant::scalar(date_time{}));
    add("argument", n0(296), variant::scalar(extension_object::from(argument{})));
    add("list", n0(7), variant::array(std::vector<std::uint32_t>{1, 2, 3, 4}, builtin_type::uint32), 1);
    add("any", n0(24), variant{}, -2);
  }

  void add(std::string name, node_id type, variant value, std::int32_t rank = -1) {
    variable_spec v;
    v.id = node_id(1, name);
    v.parent = node_id(1, "device");
    v.browse_name = {1, name};
    v.data_type = std::move(type);
    v.value_rank = rank;
    v.access_level = access_level_bits::current_read | access_level_bits::current_write;
    v.value = std::move(value);
    const auto added = space->add_variable(std::move(v));
    ASSERT_TRUE(added.ok()) << name << ": " << added.err().message;
  }

  std::unique_ptr<address_space> space;
};

TEST_F(Write, ValueRoundTrip) {
  EXPECT_EQ(space->write(write_of(node_id(1, "int"), variant::scalar(std::int32_t{42})), user()), status_code::Good);
  const auto v = read(*space, node_id(1, "int"), attribute::value, {}, timestamps_to_return::source);
  EXPECT_EQ(v.value, variant::scalar(std::int32_t{42}));
  EXPECT_TRUE(v.source_timestamp);
  // A source timestamp from the client is kept.
  auto w = write_of(node_id(1, "int"), variant::scalar(std::int32_t{43}));
  w.value.source_timestamp = date_time{123456789};
  EXPECT_EQ(space->write(w, user()), status_code::Good);
  EXPECT_EQ(read(*space, node_id(1, "int"), attribute::value, {}, timestamps_to_return::source).source_timestamp, date_time{123456789});
}

TEST_F(Write, TypeChecks) {
  const auto id = node_id(1, "int");
  EXPECT_EQ(space->write(write_of(id, variant::scalar(std::string("x"))), user()), status_code::BadTypeMismatch);
  EXPECT_EQ(space->write(write_of(id, variant::scalar(std::int64_t{1})), user()), status_code::BadTypeMismatch);
  EXPECT_EQ(space->write(write_of(id, variant::array(std::vector<std::int32_t>{1}, builtin_type::int32)), user()),
            status_code::BadTypeMismatch);
  EXPECT_EQ(space->write(write_of(id, variant{}), user()), status_code::BadTypeMismatch);
  write_value no_value;
  no_value.node_id = id;
  no_value.attribute_id = 13;
  EXPECT_EQ(space->write(no_value, user()), status_code::BadTypeMismatch);
  // Abstract numeric types take any number.
  EXPECT_EQ(space->write(write_of(node_id(1, "number"), variant::scalar(std::int16_t{3})), user()), status_code::Good);
  EXPECT_EQ(space->write(write_of(node_id(1, "number"), variant::scalar(std::uint64_t{3})), user()), status_code::Good);
  EXPECT_EQ(space->write(write_of(node_id(1, "number"), variant::scalar(true)), user()), status_code::BadTypeMismatch);
  // Enumerations are Int32; UtcTime is a DateTime.
  EXPECT_EQ(space->write(write_of(node_id(1, "state"), variant::scalar(std::int32_t{3})), user()), status_code::Good);
  EXPECT_EQ(space->write(write_of(node_id(1, "state"), variant::scalar(std::uint32_t{3})), user()), status_code::BadTypeMismatch);
  EXPECT_EQ(space->write(write_of(node_id(1, "time"), variant::scalar(date_time::now())), user()), status_code::Good);
  // Structures must be of the DataType.
  EXPECT_EQ(space->write(write_of(node_id(1, "argument"), variant::scalar(extension_object::from(arg("a", 6)))), user()),
            status_code::Good);
  EXPECT_EQ(space->write(write_of(node_id(1, "argument"), variant::scalar(extension_object::from(build_info{}))), user()),
            status_code::BadTypeMismatch);
  // BaseDataType with any rank: anything.
  EXPECT_EQ(space->write(write_of(node_id(1, "any"), variant::scalar(std::string("x"))), user()), status_code::Good);
  EXPECT_EQ(space->write(write_of(node_id(1, "any"), variant{}), user()), status_code::Good);
  // Arrays: rank 1.
  EXPECT_EQ(space->write(write_of(node_id(1, "list"), variant::scalar(std::uint32_t{1})), user()), status_code::BadTypeMismatch);
  EXPECT_EQ(space->write(write_of(node_id(1, "list"), variant::array(std::vector<std::uint32_t>{9}, builtin_type::uint32)), user()),
            status_code::Good);
}

TEST_F(Write, IndexRange) {
  const auto id = node_id(1, "list");
  EXPECT_EQ(space->write(write_of(id, variant::array(std::vector<std::uint32_t>{8, 9}, builtin_type::uint32), "1:2"), user()),
            status_code::Good);
  EXPECT_EQ(read(*space, id, attribute::value).value, variant::array(std::vector<std::uint32_t>{1, 8, 9, 4}, builtin_type::uint32));
  EXPECT_EQ(space->write(write_of(id, variant::array(std::vector<std::uint32_t>{8}, builtin_type::uint32), "1:2"), user()),
            status_code::BadTypeMismatch);
  EXPECT_EQ(space->write(write_of(id, variant::array(std::vector<std::uint32_t>{8}, builtin_type::uint32), "4"), user()),
            status_code::BadIndexRangeNoData);
  EXPECT_EQ(space->write(write_of(id, variant::array(std::vector<std::uint32_t>{8}, builtin_type::uint32), "x"), user()),
            status_code::BadIndexRangeInvalid);
}

TEST_F(Write, Permissions) {
  const auto id = node_id(1, "int");
  // Default: sessions that are not anonymous.
  EXPECT_EQ(space->write(write_of(id, variant::scalar(std::int32_t{1})), anonymous()), status_code::BadUserAccessDenied);
  EXPECT_EQ(read(*space, id, attribute::user_access_level, {}, timestamps_to_return::neither, anonymous()).value,
            variant::scalar(access_level_bits::current_read));
  EXPECT_EQ(read(*space, id, attribute::user_access_level).value,
            variant::scalar(static_cast<std::uint8_t>(access_level_bits::current_read | access_level_bits::current_write)));
  space->set_write_permission([](const node_id&, const session_context& who) { return who.user == "admin"; });
  EXPECT_EQ(space->write(write_of(id, variant::scalar(std::int32_t{1})), user("operator")), status_code::BadUserAccessDenied);
  EXPECT_EQ(space->write(write_of(id, variant::scalar(std::int32_t{1})), user("admin")), status_code::Good);
  // Not writable: AccessLevel without CurrentWrite, other attributes, other node classes.
  EXPECT_EQ(space->write(write_of(n0(2267), variant::scalar(std::uint8_t{1})), user("admin")), status_code::BadNotWritable);
  ASSERT_TRUE(space->set_access_level(id, access_level_bits::current_read).ok());
  EXPECT_EQ(space->write(write_of(id, variant::scalar(std::int32_t{1})), user("admin")), status_code::BadNotWritable);
  auto name = write_of(n0(2267), variant::scalar(localized_text{"", "x"}));
  name.attribute_id = static_cast<std::uint32_t>(attribute::display_name);
  EXPECT_EQ(space->write(name, user("admin")), status_code::BadNotWritable);
  EXPECT_EQ(space->write(write_of(n0(63), variant::scalar(std::int32_t{1})), user("admin")), status_code::BadNotWritable);
  EXPECT_EQ(space->write(write_of(n0(ns0_id::server), variant::scalar(std::int32_t{1})), user("admin")),
            status_code::BadAttributeIdInvalid);
  EXPECT_EQ(space->write(write_of(node_id(1, "nothing"), variant::scalar(std::int32_t{1})), user("admin")),
            status_code::BadNodeIdUnknown);
  auto bad_attribute = write_of(id, variant::scalar(std::int32_t{1}));
  bad_attribute.attribute_id = 99;
  EXPECT_EQ(space->write(bad_attribute, user("admin")), status_code::BadAttributeIdInvalid);
}

TEST_F(Write, SinksAndSources) {
  variant written;
  variable_spec v;
  v.id = node_id(1, "setpoint");
  v.parent = node_id(1, "device");
  v.browse_name = {1, "Setpoint"};
  v.data_type = n0(11);
  v.access_level = access_level_bits::current_read | access_level_bits::current_write;
  v.source = [] {
    data_value d;
    d.value = variant::scalar(21.5);
    return d;
  };
  v.sink = [&written](const variant& value, const session_context&) {
    written = value;
    return value.get_if<double>() && *value.get_if<double>() > 100 ? status_code::BadOutOfRange : status_code::Good;
  };
  ASSERT_TRUE(space->add_variable(std::move(v)).ok());
  EXPECT_EQ(read(*space, node_id(1, "setpoint"), attribute::value).value, variant::scalar(21.5));
  EXPECT_EQ(space->write(write_of(node_id(1, "setpoint"), variant::scalar(22.0)), user()), status_code::Good);
  EXPECT_EQ(written, variant::scalar(22.0));
  EXPECT_EQ(space->write(write_of(node_id(1, "setpoint"), variant::scalar(200.0)), user()), status_code::BadOutOfRange);
  EXPECT_EQ(read(*space, node_id(1, "setpoint"), attribute::value).value, variant::scalar(21.5));

  write_request q;
  q.nodes_to_write = {write_of(node_id(1, "int"), variant::scalar(std::int32_t{1})), write_of(n0(2267), variant::scalar(std::uint8_t{1}))};
  const auto r = space->write(q, user());
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0], status_code::Good);
  EXPECT_EQ(r.results[1], status_code::BadNotWritable);
  EXPECT_EQ(space->write(write_request{}, user()).response_header.service_result, status_code::BadNothingToDo);
}

// ---------------------------------------------------------------------------------------------
// Run-time nodes

TEST_F(Write, RuntimeNodesAreBrowsableBothWays) {
  const auto device = browse_all(*space, describe(node_id(1, "device"), browse_direction::both, node_id{}));
  EXPECT_TRUE(contains(targets(device), n0(ns0_id::objects)));
  EXPECT_TRUE(contains(targets(device), n0(ns0_id::base_object_type)));
  EXPECT_TRUE(contains(targets(device), node_id(1, "int")));
  EXPECT_TRUE(contains(targets(browse_all(*space, describe(n0(ns0_id::objects)))), node_id(1, "device")));
  EXPECT_EQ(space->translate(path(n0(ns0_id::objects), {step("Device", n0(hierarchical), false, true, 1), step("int", n0(hierarchical), false, true, 1)}))
                .targets.at(0).target_id.id,
            node_id(1, "int"));
  EXPECT_EQ(read(*space, node_id(1, "device"), attribute::display_name).value, variant::scalar(localized_text{"", "Device"}));

  EXPECT_EQ(space->add_object({node_id(1, "device"), n0(ns0_id::objects), n0(organizes), {1, "Again"}}).code(), status_code::BadNodeIdExists);
  EXPECT_EQ(space->add_object({node_id(1, "orphan"), node_id(1, "nowhere"), n0(organizes), {1, "Orphan"}}).code(),
            status_code::BadParentNodeIdInvalid);
  EXPECT_EQ(space->add_object({node_id(1, "x"), n0(ns0_id::objects), n0(ns0_id::objects), {1, "X"}}).code(),
            status_code::BadReferenceTypeIdInvalid);
  EXPECT_EQ(space->add_object({node_id(1, "y"), n0(ns0_id::objects), n0(organizes), {1, "Y"}, {}, {}, n0(63)}).code(),
            status_code::BadTypeDefinitionInvalid);
  EXPECT_EQ(space->add_object({node_id(9, "z"), n0(ns0_id::objects), n0(organizes), {1, "Z"}}).code(), status_code::BadNodeIdInvalid);
  ASSERT_TRUE(space->add_reference(n0(ns0_id::server), n0(organizes), node_id(1, "device")).ok());
  EXPECT_EQ(space->add_reference(n0(ns0_id::server), n0(organizes), node_id(1, "device")).code(),
            status_code::BadDuplicateReferenceNotAllowed);
  EXPECT_TRUE(contains(targets(browse_all(*space, describe(node_id(1, "device"), browse_direction::inverse, n0(organizes), false))),
                       n0(ns0_id::server)));
  // Values that do not fit their DataType are refused.
  variable_spec wrong;
  wrong.id = node_id(1, "wrong");
  wrong.parent = node_id(1, "device");
  wrong.browse_name = {1, "Wrong"};
  wrong.data_type = n0(6);
  wrong.value = variant::scalar(std::string("x"));
  EXPECT_EQ(space->add_variable(std::move(wrong)).code(), status_code::BadTypeMismatch);
}

// ---------------------------------------------------------------------------------------------
// Call

class Call : public Write {
 protected:
  void SetUp() override {
    Write::SetUp();
    method_spec m;
    m.id = node_id(1, "device/scale");
    m.parent = node_id(1, "device");
    m.browse_name = {1, "Scale"};
    m.input_arguments = {arg("Factor", 7), arg("Names", 12, 1)};
    m.output_arguments = {arg("Scaled", 12, 1)};
    m.handler = [](const std::vector<variant>& inputs, const session_context& who) {
      call_method_result r;
      std::vector<std::string> out;
      for (const auto& name : inputs[1].values) {
        out.push_back(std::string(*inputs[0].get_if<std::uint32_t>(), '*') + std::get<std::string>(name) + "@" + who.user);
      }
      r.output_arguments = {variant::array(out, builtin_type::string)};
      return r;
    };
    ASSERT_TRUE(space->add_method(std::move(m)).ok());
  }

  call_method_result call(node_id object, node_id method, std::vector<variant> inputs, const session_context& who = user()) {
    call_method_request q;
    q.object_id = std::move(object);
    q.method_id = std::move(method);
    q.input_arguments = std::move(inputs);
    return space->call(q, who);
  }

  const node_id device = node_id(1, "device");
  const node_id scale = node_id(1, "device/scale");
  const variant names = variant::array(std::vector<std::string>{"a", "b"}, builtin_type::string);
};

TEST_F(Call, RunsTheHandler) {
  const auto r = call(device, scale, {variant::scalar(std::uint32_t{2}), names});
  EXPECT_EQ(r.status_code, status_code::Good);
  ASSERT_EQ(r.output_arguments.size(), 1u);
  EXPECT_EQ(r.output_arguments[0], variant::array(std::vector<std::string>{"**a@operator", "**b@operator"}, builtin_type::string));
  // The argument properties are browsable and readable.
  const auto inputs = space->translate(path(scale, {step("InputArguments", n0(has_property), false, false)}));
  ASSERT_EQ(inputs.status_code, status_code::Good);
  const auto value = read(*space, inputs.targets[0].target_id.id, attribute::value);
  ASSERT_EQ(value.value->values.size(), 2u);
  EXPECT_EQ(std::get<extension_object>(value.value->values[1]).get<argument>()->name, "Names");
  EXPECT_EQ(space->resolve_method(device, scale)->size(), 2u);
}

TEST_F(Call, ArgumentChecks) {
  EXPECT_EQ(call(device, scale, {variant::scalar(std::uint32_t{2})}).status_code, status_code::BadArgumentsMissing);
  EXPECT_EQ(call(device, scale, {}).status_code, status_code::BadArgumentsMissing);
  EXPECT_EQ(call(device, scale, {variant::scalar(std::uint32_t{2}), names, names}).status_code, status_code::BadTooManyArguments);
  const auto wrong = call(device, scale, {variant::scalar(std::string("2")), names});
  EXPECT_EQ(wrong.status_code, status_code::BadInvalidArgument);
  ASSERT_EQ(wrong.input_argument_results.size(), 2u);
  EXPECT_EQ(wrong.input_argument_results[0], status_code::BadTypeMismatch);
  EXPECT_EQ(wrong.input_argument_results[1], status_code::Good);
  const auto scalar_for_array = call(device, scale, {variant::scalar(std::uint32_t{2}), variant::scalar(std::string("a"))});
  EXPECT_EQ(scalar_for_array.status_code, status_code::BadInvalidArgument);
  EXPECT_EQ(scalar_for_array.input_argument_results.at(1), status_code::BadTypeMismatch);
}

TEST_F(Call, MethodLookup) {
  EXPECT_EQ(call(node_id(1, "nothing"), scale, {}).status_code, status_code::BadNodeIdUnknown);
  EXPECT_EQ(call(node_id(1, "int"), scale, {}).status_code, status_code::BadNodeIdInvalid);
  EXPECT_EQ(call(device, node_id(1, "nothing"), {}).status_code, status_code::BadMethodInvalid);
  EXPECT_EQ(call(device, node_id(1, "int"), {}).status_code, status_code::BadMethodInvalid);
  EXPECT_EQ(call(n0(ns0_id::objects), scale, {}).status_code, status_code::BadMethodInvalid);  // not its component
  EXPECT_EQ(space->resolve_method(n0(ns0_id::objects), scale).code(), status_code::BadMethodInvalid);
  // A standard method without a handler: checked, then not implemented.
  EXPECT_EQ(call(n0(ns0_id::server), n0(11492), {variant::scalar(std::uint32_t{1})}).status_code, status_code::BadNotImplemented);
  EXPECT_EQ(call(n0(ns0_id::server), n0(11492), {variant::scalar(1.0)}).status_code, status_code::BadInvalidArgument);
  // The type's method, called on an instance.
  const auto on_type = space->translate(path(n0(2004), {step("GetMonitoredItems", n0(has_component), false, false)}));
  ASSERT_EQ(on_type.status_code, status_code::Good);
  const auto type_method = on_type.targets[0].target_id.id;
  EXPECT_NE(type_method, n0(11492));
  EXPECT_EQ(call(n0(ns0_id::server), type_method, {variant::scalar(std::uint32_t{1})}).status_code, status_code::BadNotImplemented);
  ASSERT_TRUE(space->set_method_handler(type_method, [](const std::vector<variant>&, const session_context&) {
    call_method_result r;
    r.output_arguments = {variant::array(std::vector<std::uint32_t>{}, builtin_type::uint32),
                          variant::array(std::vector<std::uint32_t>{}, builtin_type::uint32)};
    return r;
  }).ok());
  EXPECT_EQ(call(n0(ns0_id::server), type_method, {variant::scalar(std::uint32_t{1})}).status_code, status_code::Good);
  // GDS: structure arguments of a DataType the server has no codec for cannot match a String.
  const auto gds = call(node_id(2, 141), node_id(2, 146), {variant::scalar(std::string("x"))});
  EXPECT_EQ(gds.status_code, status_code::BadInvalidArgument);
  EXPECT_EQ(gds.input_argument_results.at(0), status_code::BadTypeMismatch);
}

TEST_F(Call, Permissions) {
  space->set_call_permission([](const node_id&, const session_context& who) { return !who.anonymous; });
  EXPECT_EQ(call(device, scale, {variant::scalar(std::uint32_t{1}), names}, anonymous()).status_code, status_code::BadUserAccessDenied);
  EXPECT_EQ(read(*space, scale, attribute::user_executable, {}, timestamps_to_return::neither, anonymous()).value, variant::scalar(false));
  EXPECT_EQ(read(*space, scale, attribute::user_executable).value, variant::scalar(true));
  EXPECT_EQ(call(device, scale, {variant::scalar(std::uint32_t{1}), names}).status_code, status_code::Good);

  call_request q;
  EXPECT_EQ(space->call(q, user()).response_header.service_result, status_code::BadNothingToDo);
  call_method_request m;
  m.object_id = device;
  m.method_id = scale;
  m.input_arguments = {variant::scalar(std::uint32_t{1}), names};
  q.methods_to_call = {m, m};
  const auto r = space->call(q, user());
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[1].status_code, status_code::Good);
}

}  // namespace
}  // namespace castellan::ua
