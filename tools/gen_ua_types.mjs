// Generates castellan's C++ structures and enumerations for every type in an OPC UA binary
// schema (.bsd) — by default the OPC Foundation's Opc.Ua.Types.bsd — with the ns=0 DataType
// and "Default Binary" encoding ids of each structure. Schema and ids come from the pinned npm
// packages in tools/schema (node-opcua-nodesets: Opc.Ua.Types.bsd and Opc.Ua.NodeSet2.xml;
// node-opcua-constants: the OPC Foundation's NodeIds.csv as JavaScript). The generated C++ is
// castellan's; the schema is the OPC Foundation's (MIT).
//
// Usage:
//   node tools/gen_ua_types.mjs <schema node_modules dir> <out dir> [parts]
//        [--bsd FILE --ids NodeIds.csv] [--namespace castellan::ua] [--stem generated]
//        [--prefix standard] [--include-dir ua/types]
// Writes <out>/<stem>.h, <out>/<stem>_<n>.cpp (n < parts) and <out>/<stem>_table.cpp.
// --bsd/--ids generate from another schema (the generator's own tests do that); the ids file
// has the NodeIds.csv layout: Name,Id,Class with Name_Encoding_DefaultBinary for encodings.
//
// Mapping (the contract other code is written against):
//   - PascalCase names become snake_case; a C++ keyword or a clash gets a trailing underscore.
//   - NoOfX + X (LengthField) becomes std::vector<T> x.
//   - opc:Bit fields form the encoding mask; a field switched by a bit is std::optional<T>;
//     Reserved bits are written as zero and ignored when read.
//   - A union alternative (SwitchField + SwitchValue on an ordinary field) is std::optional<T>
//     next to the switch member; the switch member decides what is encoded.
//   - A structure that holds itself by value (directly or in a cycle) does so through
//     std::shared_ptr<T> (null encodes as a default T; for optional fields null is absent).
//   - Enumerations are enum class : std::int32_t; option sets are their integer type, with
//     the bit values as constants in a namespace of the option set's name.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";

// ---- arguments ------------------------------------------------------------------------------
const positional = [];
const options = {};
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i].startsWith("--")) {
      if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
      options[argv[i].slice(2)] = argv[++i];
    } else {
      positional.push(argv[i]);
    }
  }
}
function usage(message) {
  if (message) console.error("gen_ua_types: " + message);
  console.error("usage: gen_ua_types.mjs NODE_MODULES OUT_DIR [PARTS] [--bsd F --ids F] [--namespace NS] " +
                "[--stem NAME] [--prefix NAME] [--include-dir DIR]");
  process.exit(2);
}
function fail(message) {
  console.error("gen_ua_types: " + message);
  process.exit(1);
}
const [modulesDir, outDir, partsArg] = positional;
if (!modulesDir || !outDir) usage();
const parts = Number(partsArg ?? 4);
if (!Number.isInteger(parts) || parts < 1 || parts > 64) usage(`bad part count ${partsArg}`);
const standard = !options.bsd;
if (!standard && !options.ids) usage("--bsd needs --ids");
const cppNamespace = options.namespace ?? "castellan::ua";
const stem = options.stem ?? "generated";
const prefix = options.prefix ?? "standard";
const includeDir = options["include-dir"] ?? "ua/types";
for (const [what, value] of [["namespace", cppNamespace], ["stem", stem], ["prefix", prefix]]) {
  if (!/^[a-z_][a-z0-9_]*(::[a-z_][a-z0-9_]*)*$/.test(value)) usage(`bad ${what} ${value}`);
}
const nodesetsDir = join(modulesDir, "node-opcua-nodesets", "nodesets");
const bsdFile = options.bsd ?? join(nodesetsDir, "Opc.Ua.Types.bsd");

// ---- XML (the schema files are regular enough for patterns) ---------------------------------
const stripComments = (text) => text.replace(/<!--[\s\S]*?-->/g, "");
const bsd = stripComments(readFileSync(bsdFile, "utf8"));
function attr(text, name) {
  const m = text.match(new RegExp(`(?:^|\\s)${name}="([^"]*)"`));
  return m ? m[1] : undefined;
}
// Elements <tag ...>body</tag> or <tag .../>: [{attrs, body}]
function elements(text, tag) {
  const re = new RegExp(`<${tag}\\b((?:[^>"]|"[^"]*")*?)(\\/>|>([\\s\\S]*?)<\\/${tag}>)`, "g");
  return [...text.matchAll(re)].map((m) => ({ attrs: m[1], body: m[3] ?? "" }));
}

// ---- names ----------------------------------------------------------------------------------
const keywords = new Set(`alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield
decltype default delete do double dynamic_cast else enum explicit export extern false float for friend goto if
inline int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public register
reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch template this
thread_local throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while xor
xor_eq final override import module std`.split(/\s+/));
// Names castellan::ua already gives a meaning (src/ua/binary) or the generated code itself uses.
const namespaceNames = new Set(`builtin_type date_time guid xml_element node_id expanded_node_id qualified_name
localized_text structure_codec type_table extension_object variant_value variant data_value diagnostic_info
binary_reader binary_writer depth_guard decode_limits encode decode decode_all encode_all decode_array_length
milliseconds_between add_milliseconds status_code enum_name bytes byte_view result`.split(/\s+/));
// Members every generated structure has.
const memberNames = new Set(["codec", "data_type_id", "binary_encoding_id", "structure_codec"]);

function snake(name) {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
}
const renames = [];  // every name that is not plain snake_case of its schema name, for the record
function identifier(schemaName, what, taken) {
  const plain = snake(schemaName);
  if (!/^[a-z_][a-z0-9_]*$/.test(plain)) fail(`${what} ${schemaName}: "${plain}" is no C++ identifier`);
  let name = plain;
  while (keywords.has(name) || taken.has(name)) name += "_";
  if (name !== plain) renames.push(`${what} ${schemaName} -> ${name}`);
  return name;
}

// ---- builtin types (src/ua/binary) ----------------------------------------------------------
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
const arithmetic = new Set(["std::int8_t", "std::uint8_t", "std::int16_t", "std::uint16_t", "std::int32_t",
  "std::uint32_t", "std::int64_t", "std::uint64_t", "float", "double"]);
// Structures of Opc.Ua.Types.bsd that describe the builtin encodings themselves: src/ua/binary
// implements them by hand, nothing is generated for them.
const builtinStructures = standard
  ? new Set(["XmlElement", "TwoByteNodeId", "FourByteNodeId", "NumericNodeId", "StringNodeId", "GuidNodeId",
             "ByteStringNodeId", "NodeId", "ExpandedNodeId", "StatusCode", "DiagnosticInfo", "QualifiedName",
             "LocalizedText", "DataValue", "ExtensionObject", "Variant"])
  : new Set();

const integerOfBits = { 8: "std::uint8_t", 16: "std::uint16_t", 32: "std::uint32_t", 64: "std::uint64_t" };
const typeNames = new Set(namespaceNames);
typeNames.add(`${prefix}_types`).add(`${prefix}_structures`).add(`${prefix}_structure_count`)
  .add(`${prefix}_enumeration_count`).add(`${prefix}_option_set_count`).add(`${prefix}_codecs`);

// ---- enumerations ---------------------------------------------------------------------------
const enums = [];
const optionSets = [];
for (const { attrs, body } of elements(bsd, "opc:EnumeratedType")) {
  const name = attr(attrs, "Name");
  const bits = Number(attr(attrs, "LengthInBits") ?? 32);
  const isOptionSet = attr(attrs, "IsOptionSet") === "true";
  const cpp = identifier(name, isOptionSet ? "option set" : "enumeration", typeNames);
  typeNames.add(cpp);
  const valueNames = new Set();
  const values = elements(body, "opc:EnumeratedValue").map(({ attrs: a }) => {
    const valueName = attr(a, "Name");
    const value = Number(attr(a, "Value"));
    if (!Number.isSafeInteger(value)) fail(`${name}.${valueName}: bad value ${attr(a, "Value")}`);
    const cppValue = identifier(valueName, `${name} value`, valueNames);
    valueNames.add(cppValue);
    return { name: cppValue, schemaName: valueName, value };
  });
  if (isOptionSet) {
    const underlying = integerOfBits[bits];
    if (!underlying) fail(`option set ${name} has ${bits} bits`);
    optionSets.push({ name, cpp, underlying, values });
  } else {
    // Every enumeration is an Int32 on the wire (Part 6 §5.2.4); NodeIdType's six bits only
    // describe the NodeId encoding byte, which src/ua/binary handles by hand.
    if (bits !== 32 && !(standard && name === "NodeIdType")) fail(`enumeration ${name} has ${bits} bits`);
    for (const v of values) {
      if (v.value < -2147483648 || v.value > 2147483647) fail(`${name}.${v.schemaName} is no Int32`);
    }
    enums.push({ name, cpp, values });
  }
}
const enumByName = new Map(enums.map((e) => [e.name, e]));
const optionSetByName = new Map(optionSets.map((e) => [e.name, e]));

// ---- structures -----------------------------------------------------------------------------
const structs = [];
for (const { attrs, body } of elements(bsd, "opc:StructuredType")) {
  const name = attr(attrs, "Name");
  if (builtinStructures.has(name)) continue;
  const fields = elements(body, "opc:Field").map(({ attrs: a }) => ({
    name: attr(a, "Name"), type: attr(a, "TypeName"), length: attr(a, "Length"), lengthField: attr(a, "LengthField"),
    switchField: attr(a, "SwitchField"), switchValue: attr(a, "SwitchValue"), switchOperand: attr(a, "SwitchOperand"),
  }));
  for (const f of fields) {
    if (!f.name || !f.type) fail(`${name}: a field without Name or TypeName`);
  }
  const cpp = identifier(name, "structure", typeNames);
  typeNames.add(cpp);
  structs.push({ name, cpp, baseType: attr(attrs, "BaseType"), fields });
}
const structByName = new Map(structs.map((s) => [s.name, s]));

const qualified = (cpp) => `::${cppNamespace}::${cpp}`;
function fieldType(typeName, owner) {
  if (builtin[typeName]) return { cpp: builtin[typeName], kind: "builtin" };
  const local = typeName.replace(/^(tns|ua):/, "");
  if (local !== typeName) {
    if (enumByName.has(local)) return { cpp: qualified(enumByName.get(local).cpp), kind: "enum" };
    if (optionSetByName.has(local)) return { cpp: optionSetByName.get(local).underlying, kind: "builtin", optionSet: local };
    if (structByName.has(local)) return { cpp: qualified(structByName.get(local).cpp), kind: "struct", ref: local };
  }
  fail(`${owner}: unsupported field type ${typeName}`);
}

// Each structure becomes members plus a sequence of codec steps.
for (const s of structs) {
  const byName = new Map(s.fields.map((f) => [f.name, f]));
  const lengthOf = new Map();  // length field name -> the array field
  for (const f of s.fields) {
    if (!f.lengthField) continue;
    const lf = byName.get(f.lengthField);
    if (!lf || lf.type !== "opc:Int32") fail(`${s.name}.${f.name}: length field ${f.lengthField} is no Int32 field`);
    if (s.fields.indexOf(lf) + 1 !== s.fields.indexOf(f)) fail(`${s.name}.${f.name}: its length field is not right before it`);
    if (lf.switchField !== f.switchField) fail(`${s.name}.${f.name}: length and array are switched differently`);
    lengthOf.set(f.lengthField, f);
  }
  const switchedBy = new Map();  // switch field name -> [fields]
  for (const f of s.fields) {
    if (!f.switchField) continue;
    if (!byName.has(f.switchField)) fail(`${s.name}.${f.name}: unknown switch field ${f.switchField}`);
    if (f.switchOperand && f.switchOperand !== "Equals") fail(`${s.name}.${f.name}: SwitchOperand ${f.switchOperand}`);
    if (!switchedBy.has(f.switchField)) switchedBy.set(f.switchField, []);
    switchedBy.get(f.switchField).push(f);
  }

  s.members = [];
  s.steps = [];
  const taken = new Set([...memberNames, s.cpp]);
  let bitRun = null;
  let masks = 0;
  for (const f of s.fields) {
    if (f.type === "opc:Bit") {
      const length = Number(f.length ?? 1);
      if (!Number.isInteger(length) || length < 1) fail(`${s.name}.${f.name}: bad bit length ${f.length}`);
      if (f.switchField || f.lengthField) fail(`${s.name}.${f.name}: a switched or counted bit field`);
      if (!bitRun) {
        bitRun = { kind: "mask", variable: `mask${masks++}`, bits: 0, flags: [] };
        s.steps.push(bitRun);
      }
      if (switchedBy.has(f.name)) {
        if (length !== 1) fail(`${s.name}.${f.name}: a ${length}-bit switch field is not supported`);
        bitRun.flags.push({ field: f.name, bit: bitRun.bits });
      }
      bitRun.bits += length;
      continue;
    }
    if (bitRun) {
      bitRun.type = integerOfBits[bitRun.bits] ?? fail(`${s.name}: ${bitRun.bits} mask bits`);
      bitRun = null;
    }
    if (lengthOf.has(f.name)) continue;  // written by the array
    const t = fieldType(f.type, s.name);
    const member = { name: identifier(f.name, `${s.name} field`, taken), schemaName: f.name, type: t,
                     array: Boolean(f.lengthField) };
    taken.add(member.name);
    if (f.switchField) {
      const sw = byName.get(f.switchField);
      if (sw.type === "opc:Bit") {
        member.presence = { kind: "bit", field: f.switchField };
      } else {
        if (sw.switchField || sw.lengthField) fail(`${s.name}.${f.name}: its switch field is itself switched`);
        const swType = fieldType(sw.type, s.name);
        if (swType.kind !== "builtin" || !(arithmetic.has(swType.cpp) || swType.cpp === "bool") ||
            swType.cpp === "float" || swType.cpp === "double") {
          fail(`${s.name}.${f.name}: switch field ${sw.name} is no integer`);
        }
        if (s.fields.indexOf(sw) > s.fields.indexOf(f)) fail(`${s.name}.${f.name}: switch field after the field`);
        if (f.switchValue !== undefined && !/^-?\d+$/.test(f.switchValue)) fail(`${s.name}.${f.name}: SwitchValue`);
        member.presence = { kind: "switch", field: f.switchField, value: f.switchValue };
      }
    }
    s.members.push(member);
    s.steps.push({ kind: "member", member });
  }
  if (bitRun) bitRun.type = integerOfBits[bitRun.bits] ?? fail(`${s.name}: ${bitRun.bits} mask bits`);
  // Switch members by schema name, for the codec.
  for (const m of s.members) {
    if (m.presence?.kind === "switch") {
      const sw = s.members.find((x) => x.schemaName === m.presence.field);
      if (!sw) fail(`${s.name}.${m.schemaName}: switch field is no member`);
      m.presence.member = sw;
      if (m.presence.value === undefined && sw.type.cpp !== "bool") m.presence.nonzero = true;
    }
  }
}

// ---- by-value cycles: box the edges inside a strongly connected component -----------------
{
  const valueEdges = (s) => s.members.filter((m) => m.type.kind === "struct" && !m.array).map((m) => structByName.get(m.type.ref));
  let index = 0;
  const info = new Map();
  const stack = [];
  const component = new Map();
  function strong(s) {
    info.set(s, { index, low: index, onStack: true });
    ++index;
    stack.push(s);
    for (const t of valueEdges(s)) {
      if (!info.has(t)) {
        strong(t);
        info.get(s).low = Math.min(info.get(s).low, info.get(t).low);
      } else if (info.get(t).onStack) {
        info.get(s).low = Math.min(info.get(s).low, info.get(t).index);
      }
    }
    if (info.get(s).low === info.get(s).index) {
      const id = {};
      let t;
      do {
        t = stack.pop();
        info.get(t).onStack = false;
        component.set(t, id);
      } while (t !== s);
    }
  }
  structs.forEach((s) => info.has(s) || strong(s));
  for (const s of structs) {
    for (const m of s.members) {
      if (m.type.kind !== "struct" || m.array) continue;
      if (component.get(structByName.get(m.type.ref)) === component.get(s)) m.boxed = true;
    }
  }
}

// ---- ids --------------------------------------------------------------------------------------
const ids = new Map();  // schema name -> { id, binary }
if (standard) {
  // The NodeSet: each DataType and its HasEncoding reference to "Default Binary".
  const nodeset = stripComments(readFileSync(join(nodesetsDir, "Opc.Ua.NodeSet2.xml"), "utf8"));
  const defaultBinary = new Set();
  for (const { attrs } of elements(nodeset, "UAObject")) {
    if (attr(attrs, "BrowseName") === "Default Binary") defaultBinary.add(attr(attrs, "NodeId"));
  }
  for (const { attrs, body } of elements(nodeset, "UADataType")) {
    const id = attr(attrs, "NodeId");
    const browse = attr(attrs, "BrowseName");
    if (!/^i=\d+$/.test(id ?? "") || browse.includes(":")) continue;
    let binary = 0;
    for (const r of body.matchAll(/<Reference ReferenceType="HasEncoding"[^>]*>(i=\d+)<\/Reference>/g)) {
      if (defaultBinary.has(r[1])) binary = Number(r[1].slice(2));
    }
    ids.set(browse, { id: Number(id.slice(2)), binary });
  }
  // The NodeSet leaves out the service types; the OPC Foundation's NodeIds.csv (as the npm
  // package node-opcua-constants ships it) has them all. Both must agree where both speak.
  const require = createRequire(join(resolve(modulesDir), "noop.js"));
  const { DataTypeIds, ObjectIds } = require("node-opcua-constants");
  for (const [name, id] of Object.entries(DataTypeIds)) {
    if (typeof id !== "number") continue;
    const binary = ObjectIds[name + "_Encoding_DefaultBinary"];
    const known = ids.get(name);
    if (known && known.id !== id) fail(`${name}: the NodeSet says i=${known.id}, NodeIds says i=${id}`);
    if (known?.binary && typeof binary === "number" && known.binary !== binary) {
      fail(`${name} Default Binary: the NodeSet says i=${known.binary}, NodeIds says i=${binary}`);
    }
    ids.set(name, { id, binary: typeof binary === "number" ? binary : known?.binary ?? 0 });
  }
} else {
  const rows = readFileSync(options.ids, "utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const dataTypes = new Map();
  const objects = new Map();
  for (const row of rows) {
    const [name, id, cls] = row.split(",");
    if (cls === "DataType") dataTypes.set(name, Number(id));
    if (cls === "Object") objects.set(name, Number(id));
  }
  for (const [name, id] of dataTypes) ids.set(name, { id, binary: objects.get(name + "_Encoding_DefaultBinary") ?? 0 });
}
for (const s of structs) {
  const known = ids.get(s.name);
  if (!known?.id) fail(`${s.name}: no DataType id`);
  s.dataTypeId = known.id;
  s.binaryEncodingId = known.binary;
}
{
  const seen = new Map();
  for (const s of structs) {
    for (const [what, id] of [["DataType", s.dataTypeId], ["encoding", s.binaryEncodingId]]) {
      if (!id) continue;
      if (seen.has(id)) fail(`i=${id} is both ${seen.get(id)} and ${s.name} ${what}`);
      seen.set(id, `${s.name} ${what}`);
    }
  }
}

// ---- definition order: every structure after those it holds by value --------------------------
// Value members (plain or optional) need a complete type; vectors may point forward, but a
// structure is placed after its vector element types too when that is possible.
const ordered = [];
{
  const hard = (s) => s.members.filter((m) => m.type.kind === "struct" && !m.array && !m.boxed).map((m) => structByName.get(m.type.ref));
  const soft = (s) => s.members.filter((m) => m.type.kind === "struct" && (m.array || m.boxed)).map((m) => structByName.get(m.type.ref));
  const closure = new Map();
  const hardClosure = (s) => {
    if (!closure.has(s)) {
      const set = new Set([s]);
      closure.set(s, set);
      for (const t of hard(s)) for (const u of hardClosure(t)) set.add(u);
    }
    return closure.get(s);
  };
  const state = new Map();
  const visiting = new Set();
  const visit = (s) => {
    if (state.has(s)) return;
    state.set(s, "visiting");
    visiting.add(s);
    for (const t of hard(s)) {
      if (state.get(t) === "visiting") fail(`${s.name}: a by-value cycle through ${t.name}`);
      visit(t);
    }
    for (const t of soft(s)) {
      if (state.has(t)) continue;
      if ([...hardClosure(t)].some((u) => visiting.has(u))) continue;
      visit(t);
    }
    visiting.delete(s);
    state.set(s, "done");
    ordered.push(s);
  };
  structs.forEach(visit);
}

// ---- emit ---------------------------------------------------------------------------------------
const source = standard ? "the OPC Foundation's Opc.Ua.Types.bsd and NodeIds (npm node-opcua-nodesets, node-opcua-constants)"
                        : `${options.bsd.split("/").pop()} and ${options.ids.split("/").pop()}`;
const banner = `// Generated by tools/gen_ua_types.mjs from ${source}. Do not edit.\n`;
const codecs = `${prefix}_codecs`;
const hex = (n) => "0x" + n.toString(16).toUpperCase();

function memberType(m) {
  const element = m.array ? `std::vector<${m.type.cpp}>` : m.type.cpp;
  if (m.boxed) return `std::shared_ptr<${m.type.cpp}>`;
  return m.presence ? `std::optional<${element}>` : element;
}
function memberInit(m) {
  if (m.array || m.boxed || m.presence) return "";
  if (m.type.kind === "enum") return "{}";
  if (m.type.cpp === "bool") return " = false";
  if (arithmetic.has(m.type.cpp)) return " = 0";
  if (m.type.cpp === "::castellan::status_code") return " = ::castellan::status_code::Good";
  return "";
}
const needsCustomEquality = (s) => s.members.some((m) => m.boxed);

let h = banner + `#pragma once
// Every structure and enumeration of the schema (see tools/gen_ua_types.mjs for the mapping).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ua/binary/codec.h"

namespace ${cppNamespace} {
`;
if (cppNamespace !== "castellan::ua") {
  h += "\nusing ::castellan::ua::decode;\nusing ::castellan::ua::encode;\n";
}
h += "\n// ---- enumerations (Int32 on the wire) ----\n\n";
for (const e of enums) {
  h += `// ${e.name}\nenum class ${e.cpp} : std::int32_t {\n`;
  for (const v of e.values) h += `  ${v.name} = ${v.value},\n`;
  h += "};\n";
  h += `void encode(binary_writer& w, ${e.cpp} v);\nvoid decode(binary_reader& r, ${e.cpp}& v);\n`;
  h += `const char* enum_name(${e.cpp} v);  // the value's C++ name, "?" when unknown\n\n`;
}
h += "// ---- option sets: fields hold them as their integer type; these are the bits ----\n\n";
for (const o of optionSets) {
  h += `// ${o.name}\nnamespace ${o.cpp} {\nusing value_type = ${o.underlying};\n`;
  for (const v of o.values) h += `inline constexpr value_type ${v.name} = ${hex(v.value)}u;\n`;
  h += `}  // namespace ${o.cpp}\n\n`;
}
h += "// ---- structures ----\n\n";
for (const s of ordered) h += `struct ${s.cpp};\n`;
h += "\n";
for (const s of ordered) {
  h += `void encode(binary_writer& w, const ${s.cpp}& v);\nvoid decode(binary_reader& r, ${s.cpp}& v);\n`;
}
h += "\n";
for (const s of ordered) {
  h += `// ${s.name}\nstruct ${s.cpp} {\n`;
  for (const m of s.members) h += `  ${memberType(m)} ${m.name}${memberInit(m)};\n`;
  h += `  static constexpr std::uint32_t data_type_id = ${s.dataTypeId};\n`;
  h += `  static constexpr std::uint32_t binary_encoding_id = ${s.binaryEncodingId};\n`;
  h += `  static const structure_codec& codec();\n`;
  h += needsCustomEquality(s) ? `  friend bool operator==(const ${s.cpp}& a, const ${s.cpp}& b);\n`
                              : `  friend bool operator==(const ${s.cpp}&, const ${s.cpp}&) = default;\n`;
  h += "};\n\n";
}
const withEncoding = ordered.filter((s) => s.binaryEncodingId);
h += `// Every structure above: by_binary_encoding_id knows the ${withEncoding.length} that have a binary encoding,
// by_data_type_id all ${structs.length}.
const type_table& ${prefix}_types();
// Their codecs, by DataType id.
std::span<const structure_codec* const> ${prefix}_structures();
inline constexpr std::size_t ${prefix}_structure_count = ${structs.length};
inline constexpr std::size_t ${prefix}_enumeration_count = ${enums.length};
inline constexpr std::size_t ${prefix}_option_set_count = ${optionSets.length};

}  // namespace ${cppNamespace}
`;

mkdirSync(outDir, { recursive: true });
function writeIfChanged(file, text) {
  if (existsSync(file) && readFileSync(file, "utf8") === text) return;
  writeFileSync(file, text);
}
writeIfChanged(join(outDir, `${stem}.h`), h);

// ---- codec bodies ----
function encodeMember(m, ind) {
  const v = `v.${m.name}`;
  const element = m.array ? `std::vector<${m.type.cpp}>` : m.type.cpp;
  // Present (engaged, non-null) or, where the value must be written anyway, a default one.
  const valueOrDefault = (i) => `${i}if (${v}) {\n${i}  encode(w, *${v});\n${i}} else {\n${i}  encode(w, ${element}{});\n${i}}\n`;
  if (!m.presence) return m.boxed ? valueOrDefault(ind) : `${ind}encode(w, ${v});\n`;
  if (m.presence.kind === "bit") return `${ind}if (${v}) encode(w, *${v});\n`;
  // Union alternative or switched field: the switch member decides.
  return `${ind}if (${switchCondition(m, "v")}) {\n${valueOrDefault(ind + "  ")}${ind}}\n`;
}
function switchCondition(m, obj) {
  const sw = `${obj}.${m.presence.member.name}`;
  if (m.presence.value !== undefined) return `${sw} == ${m.presence.value}`;
  return m.presence.nonzero ? `${sw} != 0` : sw;
}
function decodeInto(m, target, ind) {
  if (m.boxed) {
    return `${ind}{\n${ind}  auto boxed = std::make_shared<${m.type.cpp}>();\n${ind}  decode(r, *boxed);\n` +
           `${ind}  ${target} = std::move(boxed);\n${ind}}\n`;
  }
  const into = m.presence ? target + ".emplace()" : target;
  // std::vector<bool> has no bool& elements for the codec's vector template.
  if (m.array && m.type.cpp === "bool") return `${ind}decode_bools(r, ${into});\n`;
  return `${ind}decode(r, ${into});\n`;
}
const usesBools = (s) => s.members.some((m) => m.array && m.type.cpp === "bool");
function decodeMember(m, s, ind) {
  const v = `v.${m.name}`;
  if (!m.presence) return decodeInto(m, v, ind);
  let condition;
  if (m.presence.kind === "bit") {
    const run = s.steps.find((st) => st.kind === "mask" && st.flags.some((f) => f.field === m.presence.field));
    const flag = run.flags.find((f) => f.field === m.presence.field);
    condition = `(${run.variable} & ${hex(2 ** flag.bit)}u) != 0`;
  } else {
    condition = switchCondition(m, "v");
  }
  return `${ind}if (${condition}) {\n${decodeInto(m, v, ind + "  ")}${ind}} else {\n${ind}  ${v}.reset();\n${ind}}\n`;
}

function structCode(s) {
  let c = `// ${s.name}\nvoid encode(binary_writer& w, const ${s.cpp}& v) {\n`;
  if (s.steps.length === 0) c += "  (void)w;\n  (void)v;\n";
  for (const step of s.steps) {
    if (step.kind === "mask") {
      const wide = step.bits > 32 ? "std::uint64_t" : "std::uint32_t";
      if (step.flags.length === 0) {
        c += `  encode(w, ${step.type}{0});\n`;
        continue;
      }
      c += `  ${wide} ${step.variable} = 0;\n`;
      for (const f of step.flags) {
        const m = s.members.find((x) => x.presence?.kind === "bit" && x.presence.field === f.field);
        c += `  if (v.${m.name}) ${step.variable} |= ${hex(2 ** f.bit)}u;\n`;
      }
      c += step.type === wide ? `  encode(w, ${step.variable});\n` : `  encode(w, static_cast<${step.type}>(${step.variable}));\n`;
    } else {
      c += encodeMember(step.member, "  ");
    }
  }
  c += "}\n\n";
  c += `void decode(binary_reader& r, ${s.cpp}& v) {\n`;
  if (s.steps.length === 0) c += "  (void)r;\n  (void)v;\n";
  if (s.members.some((m) => m.type.kind === "struct")) c += "  depth_guard guard(r);\n  if (!guard) return;\n";
  for (const step of s.steps) {
    if (step.kind === "mask") {
      c += `  ${step.type} ${step.variable} = 0;\n  decode(r, ${step.variable});\n`;
      if (step.flags.length === 0) c += `  (void)${step.variable};  // reserved\n`;
    } else {
      c += decodeMember(step.member, s, "  ");
    }
  }
  // A union's switch value must name one of its alternatives (or none: 0).
  const unionSwitches = new Map();
  for (const m of s.members) {
    if (m.presence?.kind === "switch" && m.presence.value !== undefined) {
      const key = m.presence.member.name;
      if (!unionSwitches.has(key)) unionSwitches.set(key, []);
      unionSwitches.get(key).push(m.presence.value);
    }
  }
  for (const [sw, values] of unionSwitches) {
    const known = ["0", ...values].map((x) => `v.${sw} != ${x}`).join(" && ");
    c += `  if (r.ok() && ${known}) {\n    r.fail(::castellan::status_code::BadDecodingError, "${s.name}: unknown switch value " + std::to_string(v.${sw}));\n  }\n`;
  }
  c += "}\n\n";
  c += `const structure_codec& ${s.cpp}::codec() { return ${codecs}::${s.cpp}; }\n\n`;
  if (needsCustomEquality(s)) {
    const terms = s.members.map((m) => m.boxed ? (m.presence ? `boxed_optional_equal(a.${m.name}, b.${m.name})`
                                                             : `boxed_value_equal(a.${m.name}, b.${m.name})`)
                                                : `a.${m.name} == b.${m.name}`);
    c += `bool operator==(const ${s.cpp}& a, const ${s.cpp}& b) {\n  return ${terms.join(" &&\n         ")};\n}\n\n`;
  }
  return c;
}
function enumCode(e) {
  let c = `void encode(binary_writer& w, ${e.cpp} v) { w.write_le(static_cast<std::int32_t>(v)); }\n`;
  c += `void decode(binary_reader& r, ${e.cpp}& v) { v = static_cast<${e.cpp}>(r.read_le<std::int32_t>()); }\n`;
  c += `const char* enum_name(${e.cpp} v) {\n  switch (v) {\n`;
  const seen = new Set();
  for (const v of e.values) {
    if (seen.has(v.value)) continue;
    seen.add(v.value);
    c += `    case ${e.cpp}::${v.name}: return "${v.name}";\n`;
  }
  c += `  }\n  return "?";\n}\n\n`;
  return c;
}

// Spread the work over the parts by size, so parallel compiles finish together.
const items = [...enums.map((e) => ({ code: enumCode(e) })), ...ordered.map((s) => ({ code: structCode(s), s }))];
const buckets = Array.from({ length: parts }, () => ({ size: 0, items: [] }));
for (const item of [...items].sort((a, b) => b.code.length - a.code.length)) {
  const lightest = buckets.reduce((a, b) => (b.size < a.size ? b : a));
  lightest.items.push(item);
  lightest.size += item.code.length;
}
const helpers = `namespace {

template <class T>
std::shared_ptr<void> decode_erased(binary_reader& r) {
  auto v = std::make_shared<T>();
  decode(r, *v);
  return v;
}
template <class T>
void encode_erased(binary_writer& w, const void* v) {
  encode(w, *static_cast<const T*>(v));
}
template <class T>
bool equal_erased(const void* a, const void* b) {
  return *static_cast<const T*>(a) == *static_cast<const T*>(b);
}
`;
const boolHelpers = `void decode_bools(binary_reader& r, std::vector<bool>& v) {
  const auto n = decode_array_length(r, 1);
  v.assign(n, false);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    bool b = false;
    decode(r, b);
    v[i] = b;
  }
}
`;
const boxedHelpers = `// A boxed (recursive) member: null stands for a default value, or for absent when optional.
template <class T>
bool boxed_value_equal(const std::shared_ptr<T>& a, const std::shared_ptr<T>& b) {
  if (a == b) return true;
  const T empty{};
  return (a ? *a : empty) == (b ? *b : empty);
}
template <class T>
bool boxed_optional_equal(const std::shared_ptr<T>& a, const std::shared_ptr<T>& b) {
  if (!a || !b) return !a && !b;
  return *a == *b;
}
`;
buckets.forEach((bucket, p) => {
  // Keep the schema's order inside a part, for readable output.
  const order = new Map(items.map((item, i) => [item, i]));
  bucket.items.sort((a, b) => order.get(a) - order.get(b));
  const hasBoxed = bucket.items.some((i) => i.s && needsCustomEquality(i.s));
  const codecStructs = bucket.items.filter((i) => i.s).map((i) => i.s);
  let c = banner + `#include <memory>
#include <string>

#include "${includeDir}/${stem}.h"

namespace ${cppNamespace} {

${helpers}${hasBoxed ? boxedHelpers : ""}${bucket.items.some((i) => i.s && usesBools(i.s)) ? boolHelpers : ""}
}  // namespace

`;
  if (codecStructs.length) {
    c += `namespace ${codecs} {\n`;
    for (const s of codecStructs) c += `extern const structure_codec ${s.cpp};\n`;
    for (const s of codecStructs) {
      c += `const structure_codec ${s.cpp}{${s.dataTypeId}, ${s.binaryEncodingId}, "${s.name}", &decode_erased<::${cppNamespace}::${s.cpp}>, ` +
           `&encode_erased<::${cppNamespace}::${s.cpp}>, &equal_erased<::${cppNamespace}::${s.cpp}>};\n`;
    }
    c += `}  // namespace ${codecs}\n\n`;
  }
  for (const item of bucket.items) c += item.code;
  c += `}  // namespace ${cppNamespace}\n`;
  writeIfChanged(join(outDir, `${stem}_${p}.cpp`), c);
});

// ---- the type table ----
const byType = [...structs].sort((a, b) => a.dataTypeId - b.dataTypeId);
const byEncoding = withEncoding.slice().sort((a, b) => a.binaryEncodingId - b.binaryEncodingId);
let t = banner + `#include <algorithm>
#include <array>

#include "${includeDir}/${stem}.h"

namespace ${cppNamespace} {

namespace ${codecs} {
${structs.map((s) => `extern const structure_codec ${s.cpp};`).join("\n")}
}  // namespace ${codecs}

namespace {

// Sorted by the generator; looked up by binary search.
constexpr std::array<const structure_codec*, ${byType.length}> by_data_type{{
${byType.map((s) => `    &${codecs}::${s.cpp},  // i=${s.dataTypeId}`).join("\n")}
}};
constexpr std::array<const structure_codec*, ${byEncoding.length}> by_encoding{{
${byEncoding.map((s) => `    &${codecs}::${s.cpp},  // i=${s.binaryEncodingId}`).join("\n")}
}};

template <std::size_t N, class Key>
const structure_codec* find(const std::array<const structure_codec*, N>& table, std::uint32_t id, Key key) {
  const auto it = std::lower_bound(table.begin(), table.end(), id,
                                   [key](const structure_codec* c, std::uint32_t v) { return c->*key < v; });
  return it != table.end() && (*it)->*key == id ? *it : nullptr;
}

class table final : public type_table {
 public:
  const structure_codec* by_binary_encoding_id(std::uint32_t id) const override {
    return id == 0 ? nullptr : find(by_encoding, id, &structure_codec::binary_encoding_id);
  }
  const structure_codec* by_data_type_id(std::uint32_t id) const override {
    return id == 0 ? nullptr : find(by_data_type, id, &structure_codec::data_type_id);
  }
};

}  // namespace

const type_table& ${prefix}_types() {
  static const table instance;
  return instance;
}

std::span<const structure_codec* const> ${prefix}_structures() { return by_data_type; }

}  // namespace ${cppNamespace}
`;
writeIfChanged(join(outDir, `${stem}_table.cpp`), t);

if (options.report) {
  writeFileSync(options.report, renames.join("\n") + "\n");
}
console.log(`gen_ua_types: ${structs.length} structures (${withEncoding.length} with a binary encoding), ` +
            `${enums.length} enumerations, ${optionSets.length} option sets -> ${outDir}`);
