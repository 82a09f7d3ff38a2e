// Generates castellan's C++ structures and enumerations for every type in the OPC Foundation's
// Opc.Ua.Types.bsd, with their DataType and "Default Binary" encoding ids from Opc.Ua.NodeSet2.xml
// (both from the pinned npm package node-opcua-nodesets). The output is ours; the schema is
// the OPC Foundation's (MIT).
//
// Usage: node tools/gen_ua_types.mjs <schema node_modules dir> <out dir> [parts]
// Writes <out>/generated.h, <out>/generated_<n>.cpp (n < parts) and <out>/type_table.cpp.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";

const [modulesDir, outDir, partsArg] = process.argv.slice(2);
if (!modulesDir || !outDir) {
  console.error("usage: gen_ua_types.mjs NODE_MODULES OUT_DIR [PARTS]");
  process.exit(2);
}
const parts = Number(partsArg ?? 4);
const nodesets = join(modulesDir, "node-opcua-nodesets", "nodesets");
const bsd = readFileSync(join(nodesets, "Opc.Ua.Types.bsd"), "utf8");
const nodeset = readFileSync(join(nodesets, "Opc.Ua.NodeSet2.xml"), "utf8");

function fail(message) {
  console.error("gen_ua_types: " + message);
  process.exit(1);
}

const keywords = new Set(`alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield
decltype default delete do double dynamic_cast else enum explicit export extern false float for friend goto if
inline int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public register
reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch template this
thread_local throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while xor
xor_eq final override import module codec data_type_id binary_encoding_id`.split(/\s+/));

function snake(name) {
  const s = name
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
  return keywords.has(s) ? s + "_" : s;
}

// The builtin types: handled by the hand-written codec (src/ua/binary), not generated.
const builtin = {
  "opc:Boolean": "bool", "opc:SByte": "std::int8_t", "opc:Byte": "std::uint8_t", "opc:Int16": "std::int16_t",
  "opc:UInt16": "std::uint16_t", "opc:Int32": "std::int32_t", "opc:UInt32": "std::uint32_t", "opc:Int64": "std::int64_t",
  "opc:UInt64": "std::uint64_t", "opc:Float": "float", "opc:Double": "double", "opc:String": "std::string",
  "opc:CharArray": "std::string", "opc:DateTime": "::castellan::ua::date_time", "opc:Guid": "::castellan::ua::guid",
  "opc:ByteString": "::castellan::bytes", "ua:XmlElement": "::castellan::ua::xml_element",
  "ua:NodeId": "::castellan::ua::node_id", "ua:ExpandedNodeId": "::castellan::ua::expanded_node_id",
  "ua:StatusCode": "::castellan::status_code", "ua:QualifiedName": "::castellan::ua::qualified_name",
  "ua:LocalizedText": "::castellan::ua::localized_text", "ua:ExtensionObject": "::castellan::ua::extension_object",
  "ua:DataValue": "::castellan::ua::data_value", "ua:Variant": "::castellan::ua::variant",
  "ua:DiagnosticInfo": "::castellan::ua::diagnostic_info",
};
const builtinStructures = new Set(["XmlElement", "TwoByteNodeId", "FourByteNodeId", "NumericNodeId", "StringNodeId",
  "GuidNodeId", "ByteStringNodeId", "NodeId", "ExpandedNodeId", "StatusCode", "DiagnosticInfo", "QualifiedName",
  "LocalizedText", "DataValue", "ExtensionObject", "Variant"]);
const builtinEnums = new Set(["NodeIdType"]);

const attr = (text, name) => (text.match(new RegExp(`\\b${name}="([^"]*)"`)) ?? [])[1];

// ---- enumerations ----
const enums = [];
for (const m of bsd.matchAll(/<opc:EnumeratedType\b([^>]*)>([\s\S]*?)<\/opc:EnumeratedType>/g)) {
  const name = attr(m[1], "Name");
  if (builtinEnums.has(name)) continue;
  const bits = Number(attr(m[1], "LengthInBits") ?? 32);
  const optionSet = attr(m[1], "IsOptionSet") === "true";
  const values = [...m[2].matchAll(/<opc:EnumeratedValue\b([^>]*)\/?>/g)].map((v) => ({
    name: snake(attr(v[1], "Name")), value: Number(attr(v[1], "Value")),
  }));
  const underlying = optionSet ? { 8: "std::uint8_t", 16: "std::uint16_t", 32: "std::uint32_t", 64: "std::uint64_t" }[bits]
                               : "std::int32_t";
  if (!underlying) fail(`enumeration ${name} has ${bits} bits`);
  enums.push({ name, cpp: snake(name), underlying, values });
}
const enumByName = new Map(enums.map((e) => [e.name, e]));

// ---- structures ----
const structs = [];
for (const m of bsd.matchAll(/<opc:StructuredType\b([^>]*)>([\s\S]*?)<\/opc:StructuredType>/g)) {
  const name = attr(m[1], "Name");
  if (builtinStructures.has(name)) continue;
  const fields = [...m[2].matchAll(/<opc:Field\b([^>]*)\/?>/g)].map((f) => ({
    name: attr(f[1], "Name"), type: attr(f[1], "TypeName"), lengthField: attr(f[1], "LengthField"),
    switchField: attr(f[1], "SwitchField"),
  }));
  if (fields.some((f) => f.type === "opc:Bit" || f.switchField)) {
    fail(`${name} has optional fields or is a union: not supported by this generator yet`);
  }
  structs.push({ name, cpp: snake(name), fields });
}
const structByName = new Map(structs.map((s) => [s.name, s]));

// ---- ids from the NodeSet ----
const encodingNames = new Map();
for (const m of nodeset.matchAll(/<UAObject\b([^>]*)>/g)) {
  const id = attr(m[1], "NodeId");
  if (attr(m[1], "BrowseName") === "Default Binary" && id?.startsWith("i=")) encodingNames.set(id, true);
}
const dataTypes = new Map();
for (const m of nodeset.matchAll(/<UADataType\b([^>]*)>([\s\S]*?)<\/UADataType>/g)) {
  const id = attr(m[1], "NodeId");
  const browse = attr(m[1], "BrowseName");
  if (!id?.startsWith("i=") || browse.includes(":")) continue;
  let binary = 0;
  for (const r of m[2].matchAll(/<Reference ReferenceType="HasEncoding"[^>]*>i=(\d+)<\/Reference>/g)) {
    if (encodingNames.has("i=" + r[1])) binary = Number(r[1]);
  }
  dataTypes.set(browse, { id: Number(id.slice(2)), binary });
}

// The NodeSet omits the service types; the OPC Foundation's NodeIds.csv (as the npm package
// node-opcua-constants ships it) has every DataType and encoding id.
{
  const require = createRequire(join(resolve(modulesDir), "noop.js"));
  const { DataTypeIds, ObjectIds } = require("node-opcua-constants");
  for (const [name, id] of Object.entries(DataTypeIds)) {
    if (typeof id !== "number") continue;
    const binary = ObjectIds[name + "_Encoding_DefaultBinary"];
    const known = dataTypes.get(name);
    if (known && known.id !== id) fail(`${name}: NodeSet says i=${known.id}, NodeIds says i=${id}`);
    dataTypes.set(name, { id, binary: typeof binary === "number" ? binary : known?.binary ?? 0 });
  }
}

// ---- field types ----
function fieldType(typeName, owner) {
  if (builtin[typeName]) return { cpp: builtin[typeName], kind: "builtin" };
  const local = typeName.replace(/^(tns|ua):/, "");
  if (enumByName.has(local)) return { cpp: "::castellan::ua::" + enumByName.get(local).cpp, kind: "enum", ref: local };
  if (structByName.has(local)) return { cpp: "::castellan::ua::" + structByName.get(local).cpp, kind: "struct", ref: local };
  fail(`${owner}: unknown field type ${typeName}`);
}

for (const s of structs) {
  const lengthFields = new Set(s.fields.filter((f) => f.lengthField).map((f) => f.lengthField));
  s.members = [];
  const used = new Set();
  for (const f of s.fields) {
    if (lengthFields.has(f.name)) continue;
    const t = fieldType(f.type, s.name);
    let member = snake(f.name);
    if (used.has(member)) fail(`${s.name}: two fields named ${member}`);
    used.add(member);
    s.members.push({ name: member, type: t, array: Boolean(f.lengthField) });
  }
  const ids = dataTypes.get(s.name);
  s.dataTypeId = ids?.id ?? 0;
  s.binaryEncodingId = ids?.binary ?? 0;
}

// Definition order: a structure after every structure it holds by value (or in a vector).
const ordered = [];
const state = new Map();
function visit(s) {
  if (state.get(s.name) === "done") return;
  if (state.get(s.name) === "visiting") return;  // a cycle through a vector: std::vector allows incomplete types
  state.set(s.name, "visiting");
  for (const m of s.members) {
    if (m.type.kind === "struct" && m.type.ref !== s.name) visit(structByName.get(m.type.ref));
  }
  state.set(s.name, "done");
  ordered.push(s);
}
structs.forEach(visit);

// ---- emit ----
const banner = "// Generated by tools/gen_ua_types.mjs from the OPC Foundation's Opc.Ua.Types.bsd and\n" +
               "// Opc.Ua.NodeSet2.xml (npm node-opcua-nodesets). Do not edit.\n";
function defaultInit(t, array) {
  if (array) return "{}";
  if (t.kind === "enum" || t.kind === "struct") return "{}";
  if (t.cpp === "bool") return " = false";
  if (/int|float|double/.test(t.cpp) && t.cpp.startsWith("std::") || t.cpp === "float" || t.cpp === "double") return " = 0";
  if (t.cpp === "::castellan::status_code") return " = ::castellan::status_code::Good";
  return "{}";
}

let h = banner + "#pragma once\n\n#include <cstdint>\n#include <string>\n#include <vector>\n\n#include \"ua/binary/codec.h\"\n\n" +
        "namespace castellan::ua {\n\n";
for (const e of enums) {
  h += `enum class ${e.cpp} : ${e.underlying} {\n`;
  for (const v of e.values) h += `  ${v.name} = ${v.value},\n`;
  h += "};\n";
  h += `void encode(binary_writer& w, ${e.cpp} v);\nvoid decode(binary_reader& r, ${e.cpp}& v);\n`;
  h += `const char* enum_name(${e.cpp} v);\n\n`;
}
for (const s of ordered) h += `struct ${s.cpp};\n`;
h += "\n";
for (const s of ordered) {
  h += `// ${s.name}\nstruct ${s.cpp} {\n`;
  for (const m of s.members) {
    const type = m.array ? `std::vector<${m.type.cpp}>` : m.type.cpp;
    h += `  ${type} ${m.name}${defaultInit(m.type, m.array)};\n`;
  }
  h += `  static constexpr std::uint32_t data_type_id = ${s.dataTypeId};\n`;
  h += `  static constexpr std::uint32_t binary_encoding_id = ${s.binaryEncodingId};\n`;
  h += `  static const structure_codec& codec();\n`;
  h += `  friend bool operator==(const ${s.cpp}&, const ${s.cpp}&) = default;\n};\n`;
  h += `void encode(binary_writer& w, const ${s.cpp}& v);\nvoid decode(binary_reader& r, ${s.cpp}& v);\n\n`;
}
h += "// Every structure above, by binary encoding id and by DataType id.\nconst type_table& standard_types();\n";
h += `inline constexpr std::size_t standard_structure_count = ${structs.length};\n`;
h += `inline constexpr std::size_t standard_enumeration_count = ${enums.length};\n\n}  // namespace castellan::ua\n`;

mkdirSync(outDir, { recursive: true });
function writeIfChanged(file, text) {
  if (existsSync(file) && readFileSync(file, "utf8") === text) return;
  writeFileSync(file, text);
}
writeIfChanged(join(outDir, "generated.h"), h);

const erased = "namespace {\n" +
  "template <class T>\nstd::shared_ptr<void> decode_erased(binary_reader& r) {\n  auto v = std::make_shared<T>();\n  decode(r, *v);\n  return v;\n}\n" +
  "template <class T>\nvoid encode_erased(binary_writer& w, const void* v) {\n  encode(w, *static_cast<const T*>(v));\n}\n" +
  "template <class T>\nbool equal_erased(const void* a, const void* b) {\n  return *static_cast<const T*>(a) == *static_cast<const T*>(b);\n}\n" +
  "}  // namespace\n\n";
for (let p = 0; p < parts; ++p) {
  let c = banner + "#include \"ua/types/generated.h\"\n\nnamespace castellan::ua {\n\n" + erased;
  if (p === 0) {
    for (const e of enums) {
      c += `void encode(binary_writer& w, ${e.cpp} v) { w.write_le(static_cast<${e.underlying}>(v)); }\n`;
      c += `void decode(binary_reader& r, ${e.cpp}& v) { v = static_cast<${e.cpp}>(r.read_le<${e.underlying}>()); }\n`;
      c += `const char* enum_name(${e.cpp} v) {\n  switch (v) {\n`;
      const seen = new Set();
      for (const v of e.values) {
        if (seen.has(v.value)) continue;
        seen.add(v.value);
        c += `    case ${e.cpp}::${v.name}: return "${v.name}";\n`;
      }
      c += `  }\n  return "?";\n}\n`;
    }
    c += "\n";
  }
  ordered.forEach((s, i) => {
    if (i % parts !== p) return;
    c += `void encode(binary_writer& w, const ${s.cpp}& v) {\n`;
    if (s.members.length === 0) c += "  (void)w;\n  (void)v;\n";
    for (const m of s.members) c += `  encode(w, v.${m.name});\n`;
    c += "}\n";
    c += `void decode(binary_reader& r, ${s.cpp}& v) {\n`;
    if (s.members.length === 0) c += "  (void)r;\n  (void)v;\n";
    const nested = s.members.some((m) => m.type.kind === "struct");
    if (nested) c += "  depth_guard guard(r);\n  if (!guard) return;\n";
    for (const m of s.members) c += `  decode(r, v.${m.name});\n`;
    c += "}\n";
    c += `const structure_codec& ${s.cpp}::codec() {\n  static const structure_codec c{${s.dataTypeId}, ${s.binaryEncodingId}, "${s.name}", ` +
         `&decode_erased<${s.cpp}>, &encode_erased<${s.cpp}>, &equal_erased<${s.cpp}>};\n  return c;\n}\n\n`;
  });
  c += "}  // namespace castellan::ua\n";
  writeIfChanged(join(outDir, `generated_${p}.cpp`), c);
}

let t = banner + "#include <algorithm>\n#include <vector>\n\n#include \"ua/types/generated.h\"\n\nnamespace castellan::ua {\n\nnamespace {\n\n";
t += "class standard_type_table final : public type_table {\n public:\n  standard_type_table() {\n    all_ = {\n";
for (const s of ordered) {
  if (s.binaryEncodingId) t += `        &${s.cpp}::codec(),\n`;
}
t += "    };\n    by_encoding_ = all_;\n    by_type_ = all_;\n" +
     "    std::sort(by_encoding_.begin(), by_encoding_.end(), [](auto* a, auto* b) { return a->binary_encoding_id < b->binary_encoding_id; });\n" +
     "    std::sort(by_type_.begin(), by_type_.end(), [](auto* a, auto* b) { return a->data_type_id < b->data_type_id; });\n  }\n" +
     "  const structure_codec* by_binary_encoding_id(std::uint32_t id) const override {\n" +
     "    auto it = std::lower_bound(by_encoding_.begin(), by_encoding_.end(), id, [](auto* c, std::uint32_t v) { return c->binary_encoding_id < v; });\n" +
     "    return it != by_encoding_.end() && (*it)->binary_encoding_id == id ? *it : nullptr;\n  }\n" +
     "  const structure_codec* by_data_type_id(std::uint32_t id) const override {\n" +
     "    auto it = std::lower_bound(by_type_.begin(), by_type_.end(), id, [](auto* c, std::uint32_t v) { return c->data_type_id < v; });\n" +
     "    return it != by_type_.end() && (*it)->data_type_id == id ? *it : nullptr;\n  }\n\n private:\n" +
     "  std::vector<const structure_codec*> all_;\n  std::vector<const structure_codec*> by_encoding_;\n  std::vector<const structure_codec*> by_type_;\n};\n\n}  // namespace\n\n" +
     "const type_table& standard_types() {\n  static const standard_type_table table;\n  return table;\n}\n\n}  // namespace castellan::ua\n";
writeIfChanged(join(outDir, "type_table.cpp"), t);
const withEncoding = structs.filter((s) => s.binaryEncodingId).length;
console.log(`gen_ua_types: ${structs.length} structures (${withEncoding} with a binary encoding), ${enums.length} enumerations`);
