// Generates a constant C++ node table (src/ua/nodeset/nodeset.h) from an OPC UA NodeSet2 XML
// file, as shipped (pinned) in the npm package node-opcua-nodesets.
//
// Values are encoded here, once, as UA binary Variants: the builtin types, their ListOf
// forms, and ExtensionObjects whose body layout is read from Opc.Ua.Types.bsd (the XML
// encoding id in the file is replaced by the type's Default Binary encoding id, found through
// the HasEncoding references of the base NodeSet).
//
// Output: four translation units, <name>_strings.cpp, <name>_values.cpp, <name>_references.cpp
// and <name>_nodes.cpp (plain arrays and literals, so they compile quickly).
//
// Usage: node tools/gen_ua_nodeset.mjs --nodeset FILE.xml --bsd Opc.Ua.Types.bsd
//          [--base Opc.Ua.NodeSet2.xml] --name ns0 --function ns0 --out DIR
// Anything the generator does not understand (a non-numeric NodeId, an unknown value type)
// stops it with an error naming the node: a silently wrong table is worse than a failed build.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

// ---------------------------------------------------------------------------------------------
// Arguments
const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i];
  const value = process.argv[i + 1];
  if (!key.startsWith("--") || value === undefined) usage();
  args[key.slice(2)] = value;
}
if (!args.nodeset || !args.bsd || !args.name || !args.out) usage();
if (!/^[a-z][a-z0-9_]*$/.test(args.name)) die(`--name '${args.name}' is not a C++ identifier`);
args.function ??= args.name;

function usage() {
  console.error("usage: gen_ua_nodeset.mjs --nodeset XML --bsd BSD [--base XML] --name ID [--function ID] --out DIR");
  process.exit(2);
}
function die(message) {
  console.error(`gen_ua_nodeset: ${message}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// A small XML reader: elements, attributes, text, comments, CDATA, processing instructions.
// Element names lose their namespace prefix ("uax:String" -> "String"); the NodeSet and
// Types.bsd use one namespace per document part, so nothing is lost.
function decodeEntities(s) {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_, e) => {
    switch (e) {
      case "lt": return "<";
      case "gt": return ">";
      case "amp": return "&";
      case "quot": return '"';
      case "apos": return "'";
      default: return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}
const localName = (name) => name.slice(name.indexOf(":") + 1);

function parseXml(text, file) {
  const root = { name: "#document", attrs: {}, children: [], text: "" };
  const stack = [root];
  const nameRe = /([A-Za-z_][-A-Za-z0-9_.:]*)/y;
  const attrRe = /\s*([A-Za-z_][-A-Za-z0-9_.:]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
  const endRe = /\s*(\/?)>/y;
  const lineOf = (pos) => text.slice(0, pos).split("\n").length;
  const fail = (pos, what) => die(`${file}:${lineOf(pos)}: ${what}`);
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      top.text += decodeEntities(text.slice(i));
      break;
    }
    if (lt > i) top.text += decodeEntities(text.slice(i, lt));
    if (text.startsWith("<!--", lt)) {
      const e = text.indexOf("-->", lt + 4);
      if (e < 0) fail(lt, "unterminated comment");
      i = e + 3;
    } else if (text.startsWith("<![CDATA[", lt)) {
      const e = text.indexOf("]]>", lt + 9);
      if (e < 0) fail(lt, "unterminated CDATA");
      top.text += text.slice(lt + 9, e);
      i = e + 3;
    } else if (text.startsWith("<?", lt)) {
      const e = text.indexOf("?>", lt + 2);
      if (e < 0) fail(lt, "unterminated processing instruction");
      i = e + 2;
    } else if (text.startsWith("<!", lt)) {
      const e = text.indexOf(">", lt + 2);
      if (e < 0) fail(lt, "unterminated declaration");
      i = e + 1;
    } else if (text[lt + 1] === "/") {
      const e = text.indexOf(">", lt + 2);
      if (e < 0) fail(lt, "unterminated end tag");
      const name = localName(text.slice(lt + 2, e).trim());
      const open = stack.pop();
      if (stack.length === 0 || open.name !== name) fail(lt, `</${name}> does not close <${open.name}>`);
      i = e + 1;
    } else {
      nameRe.lastIndex = lt + 1;
      const m = nameRe.exec(text);
      if (!m) fail(lt, "bad start tag");
      const el = { name: localName(m[1]), attrs: {}, children: [], text: "" };
      let p = nameRe.lastIndex;
      for (;;) {
        attrRe.lastIndex = p;
        const a = attrRe.exec(text);
        if (!a) break;
        el.attrs[a[1]] = decodeEntities(a[2] ?? a[3]);
        p = attrRe.lastIndex;
      }
      endRe.lastIndex = p;
      const end = endRe.exec(text);
      if (!end) fail(lt, `bad start tag <${el.name}>`);
      top.children.push(el);
      if (!end[1]) stack.push(el);
      i = endRe.lastIndex;
    }
  }
  if (stack.length !== 1) die(`${file}: <${stack[stack.length - 1].name}> is not closed`);
  const doc = root.children[0];
  if (!doc) die(`${file}: no document element`);
  return doc;
}
const child = (el, name) => el?.children.find((c) => c.name === name);
const childrenNamed = (el, name) => (el ? el.children.filter((c) => c.name === name) : []);

// ---------------------------------------------------------------------------------------------
// Types.bsd: structure layouts and enumerations.
function readBsd(file) {
  const doc = parseXml(readFileSync(file, "utf8"), file);
  const structs = new Map();
  const enums = new Set();
  for (const el of doc.children) {
    if (el.name === "StructuredType") {
      structs.set(el.attrs.Name, {
        name: el.attrs.Name,
        fields: childrenNamed(el, "Field").map((f) => ({
          name: f.attrs.Name,
          type: f.attrs.TypeName,
          lengthField: f.attrs.LengthField,
          switchField: f.attrs.SwitchField,
          switchValue: f.attrs.SwitchValue,
          length: f.attrs.Length ? Number(f.attrs.Length) : 1,
        })),
      });
    } else if (el.name === "EnumeratedType") {
      enums.add(el.attrs.Name);
    }
  }
  if (!structs.has("Argument") || !structs.has("EUInformation")) die(`${file}: does not look like Opc.Ua.Types.bsd`);
  return { structs, enums };
}

// ---------------------------------------------------------------------------------------------
// NodeSet reading.
const nodeElements = {
  UAObject: 1, UAVariable: 2, UAMethod: 4, UAObjectType: 8, UAVariableType: 16, UAReferenceType: 32,
  UADataType: 64, UAView: 128,
};

function readNodeSet(file) {
  const text = readFileSync(file, "utf8");
  const doc = parseXml(text, file);
  if (doc.name !== "UANodeSet") die(`${file}: not a UANodeSet`);
  const aliases = new Map();
  for (const a of childrenNamed(child(doc, "Aliases"), "Alias")) aliases.set(a.attrs.Alias, a.text.trim());
  const uris = childrenNamed(child(doc, "NamespaceUris"), "Uri").map((u) => u.text.trim());
  const models = childrenNamed(child(doc, "Models"), "Model").map((m) => m.attrs.ModelUri);
  const nodes = doc.children.filter((c) => c.name in nodeElements);
  // Counted from the raw text, independently of the parser, for the table's sanity check.
  const sourceNodeCount = (text.match(/<UA(Object|Variable|Method|ObjectType|VariableType|ReferenceType|DataType|View)[\s>]/g) ?? []).length;
  const sourceReferenceCount = (text.match(/<Reference[\s>]/g) ?? []).length;
  return { file, doc, aliases, uris, models, nodes, sourceNodeCount, sourceReferenceCount };
}

// "i=84", "ns=1;i=15001", or an alias; anything else is refused (node and reference ids).
function numericNodeId(text, aliases, where) {
  const t = (aliases.get(text.trim()) ?? text).trim();
  const m = /^(?:ns=(\d+);)?i=(\d+)$/.exec(t);
  if (!m) die(`${where}: NodeId '${text}' is not numeric; castellan's node tables hold numeric ids only`);
  const ns = m[1] ? Number(m[1]) : 0;
  const id = Number(m[2]);
  if (ns > 0xffff || id > 0xffffffff) die(`${where}: NodeId '${text}' out of range`);
  return { ns, id };
}

// Any NodeId form, for values.
function anyNodeId(text, aliases, where) {
  const t = (aliases.get(text.trim()) ?? text).trim();
  const m = /^(?:ns=(\d+);)?([isgb])=(.*)$/s.exec(t);
  if (!m) die(`${where}: cannot read NodeId '${text}'`);
  const ns = m[1] ? Number(m[1]) : 0;
  switch (m[2]) {
    case "i": return { ns, kind: "i", value: Number(m[3]) };
    case "s": return { ns, kind: "s", value: m[3] };
    case "g": return { ns, kind: "g", value: m[3] };
    default: return { ns, kind: "b", value: m[3] };
  }
}

const keyOf = (ns, id) => `${ns}:${id}`;

// ---------------------------------------------------------------------------------------------
// UA binary writer. Records where file-relative namespace indexes (non-zero) were written so
// the loader can map them.
class Writer {
  constructor() {
    this.bytes = [];
    this.fixups = [];
  }
  u8(v) { this.bytes.push(v & 0xff); }
  u16(v) { this.u8(v); this.u8(v >>> 8); }
  u32(v) { this.u16(v & 0xffff); this.u16((v >>> 16) & 0xffff); }
  i32(v) { this.u32(v >>> 0); }
  big64(v) {
    let x = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 8; ++i) {
      this.u8(Number(x & 0xffn));
      x >>= 8n;
    }
  }
  f32(v) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.raw(b); }
  f64(v) { const b = Buffer.alloc(8); b.writeDoubleLE(v); this.raw(b); }
  raw(buf) { for (const b of buf) this.u8(b); }
  nsIndex(ns) {
    if (ns !== 0) this.fixups.push(this.bytes.length);
    this.u16(ns);
  }
  string(s) {
    if (s === null || s === undefined) return this.i32(-1);
    const b = Buffer.from(s, "utf8");
    this.i32(b.length);
    this.raw(b);
  }
  bytestring(b) {
    if (b === null) return this.i32(-1);
    this.i32(b.length);
    this.raw(b);
  }
  append(other) {
    const base = this.bytes.length;
    for (const f of other.fixups) this.fixups.push(base + f);
    for (const b of other.bytes) this.bytes.push(b);
  }
}

// Variant type ids (Part 6 §5.1.2).
const builtinIds = {
  Boolean: 1, SByte: 2, Byte: 3, Int16: 4, UInt16: 5, Int32: 6, UInt32: 7, Int64: 8, UInt64: 9, Float: 10,
  Double: 11, String: 12, DateTime: 13, Guid: 14, ByteString: 15, XmlElement: 16, NodeId: 17, ExpandedNodeId: 18,
  StatusCode: 19, QualifiedName: 20, LocalizedText: 21, ExtensionObject: 22, DataValue: 23, Variant: 24,
  DiagnosticInfo: 25,
};

class ValueEncoder {
  constructor(bsd, aliases, encodings, where) {
    this.bsd = bsd;
    this.aliases = aliases;
    this.encodings = encodings;
    this.where = where;
  }
  fail(what) { die(`${this.where}: ${what}`); }

  // The <Value> element's single child: a scalar <T> or a <ListOfT>.
  variant(valueEl) {
    const elements = valueEl.children;
    if (elements.length !== 1) this.fail(`<Value> has ${elements.length} children, expected one`);
    const el = elements[0];
    const w = new Writer();
    this.variantBody(w, el);
    return w;
  }
  variantBody(w, el) {
    let name = el.name;
    const isArray = name.startsWith("ListOf");
    if (isArray) name = name.slice(6);
    if (name === "Matrix") this.fail("Matrix values are not supported");
    const typeId = builtinIds[name];
    if (!typeId || typeId === 25) this.fail(`value type <${el.name}> is not supported`);
    if (!isArray && name === "Variant") this.fail("a Variant cannot hold a scalar Variant");
    w.u8(typeId | (isArray ? 0x80 : 0));
    if (isArray) {
      const items = el.children;
      w.i32(items.length);
      for (const item of items) {
        if (item.name !== name) this.fail(`<${el.name}> holds a <${item.name}>`);
        this.builtin(w, name, item);
      }
    } else {
      this.builtin(w, name, el);
    }
  }

  // One builtin value from an element holding it (text or sub-elements); el may be absent
  // (a structure field the file leaves out): the type's null value.
  builtin(w, type, el) {
    const text = el ? el.text.trim() : "";
    const num = (min, max) => {
      if (!el || text === "") return 0;
      const v = Number(text);
      if (!Number.isInteger(v) || v < min || v > max) this.fail(`'${text}' is not a ${type}`);
      return v;
    };
    switch (type) {
      case "Boolean": return w.u8(text === "true" || text === "1" ? 1 : 0);
      case "SByte": return w.u8(num(-128, 127));
      case "Byte": return w.u8(num(0, 255));
      case "Int16": return w.u16(num(-32768, 32767));
      case "UInt16": return w.u16(num(0, 65535));
      case "Int32": return w.i32(num(-2147483648, 2147483647));
      case "UInt32": return w.u32(num(0, 4294967295));
      case "Int64":
      case "UInt64": return w.big64(text === "" ? 0n : BigInt(text));
      case "Float": return w.f32(this.float(text));
      case "Double": return w.f64(this.float(text));
      case "String": return w.string(el ? el.text : null);
      case "DateTime": return w.big64(this.ticks(text));
      case "Guid": return this.guid(w, el ? (child(el, "String")?.text ?? el.text).trim() : "");
      case "ByteString": return w.bytestring(el ? Buffer.from(text.replace(/\s+/g, ""), "base64") : null);
      case "XmlElement": return this.fail("XmlElement values are not supported");
      case "NodeId": return this.nodeId(w, el ? child(el, "Identifier")?.text ?? "" : "");
      case "ExpandedNodeId": return this.nodeId(w, el ? child(el, "Identifier")?.text ?? "" : "");
      case "StatusCode": return w.u32(el ? Number(child(el, "Code")?.text.trim() ?? 0) >>> 0 : 0);
      case "QualifiedName": {
        w.nsIndex(el ? Number(child(el, "NamespaceIndex")?.text.trim() ?? 0) : 0);
        return w.string(el ? child(el, "Name")?.text ?? null : null);
      }
      case "LocalizedText": {
        const locale = child(el, "Locale")?.text;
        const t = child(el, "Text")?.text;
        w.u8((locale ? 1 : 0) | (t !== undefined ? 2 : 0));
        if (locale) w.string(locale);
        if (t !== undefined) w.string(t);
        return;
      }
      case "ExtensionObject": return this.extensionObject(w, el);
      case "Variant": {
        const inner = child(el, "Value");
        if (!inner || inner.children.length === 0) return w.u8(0);
        if (inner.children.length !== 1) this.fail("a <Variant> holds more than one value");
        return this.variantBody(w, inner.children[0]);
      }
      default: return this.fail(`value type ${type} is not supported`);
    }
  }
  float(text) {
    if (text === "" ) return 0;
    if (text === "INF") return Infinity;
    if (text === "-INF") return -Infinity;
    if (text === "NaN") return NaN;
    const v = Number(text);
    if (Number.isNaN(v)) this.fail(`'${text}' is not a number`);
    return v;
  }
  ticks(text) {
    if (text === "") return 0n;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) this.fail(`'${text}' is not a DateTime`);
    const t = (BigInt(ms) + 11644473600000n) * 10000n;
    return t < 0n ? 0n : t;
  }
  guid(w, text) {
    if (text === "") return w.raw(Buffer.alloc(16));
    const m = /^([0-9a-fA-F]{8})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{12})$/.exec(text);
    if (!m) this.fail(`'${text}' is not a Guid`);
    w.u32(parseInt(m[1], 16) >>> 0);
    w.u16(parseInt(m[2], 16));
    w.u16(parseInt(m[3], 16));
    w.raw(Buffer.from(m[4] + m[5], "hex"));
  }
  nodeId(w, text) {
    if (text.trim() === "") {
      w.u8(0);
      return w.u8(0);
    }
    const id = anyNodeId(text, this.aliases, this.where);
    switch (id.kind) {
      case "i":
        // Compact forms only in namespace 0: other indexes are patched by the loader and
        // need the full UInt16.
        if (id.ns === 0 && id.value <= 255) {
          w.u8(0);
          return w.u8(id.value);
        }
        if (id.ns === 0 && id.value <= 65535) {
          w.u8(1);
          w.u8(0);
          return w.u16(id.value);
        }
        w.u8(2);
        w.nsIndex(id.ns);
        return w.u32(id.value >>> 0);
      case "s":
        w.u8(3);
        w.nsIndex(id.ns);
        return w.string(id.value);
      case "g":
        w.u8(4);
        w.nsIndex(id.ns);
        return this.guid(w, id.value);
      default:
        w.u8(5);
        w.nsIndex(id.ns);
        return w.bytestring(Buffer.from(id.value, "base64"));
    }
  }
  extensionObject(w, el) {
    const typeText = child(child(el, "TypeId"), "Identifier")?.text;
    const body = child(el, "Body");
    if (!typeText || !body || body.children.length !== 1) {
      // An empty ExtensionObject: null TypeId, no body.
      if (body && body.children.length > 0) this.fail("ExtensionObject without TypeId");
      w.u8(0);
      w.u8(0);
      return w.u8(0);
    }
    const xmlId = numericNodeId(typeText, this.aliases, this.where);
    const content = body.children[0];
    const enc = this.encodings.byXmlEncoding.get(keyOf(xmlId.ns, xmlId.id)) ??
      this.encodings.byTypeName.get(content.name);
    if (!enc) this.fail(`no Default Binary encoding known for ExtensionObject type ${typeText} (<${content.name}>)`);
    if (enc.name !== content.name) this.fail(`ExtensionObject TypeId ${typeText} is ${enc.name}, its body is <${content.name}>`);
    this.nodeId(w, `i=${enc.binaryId}`);
    w.u8(1);
    const b = new Writer();
    this.structure(b, content.name, content);
    w.i32(b.bytes.length);
    w.append(b);
  }

  structure(w, typeName, el) {
    const st = this.bsd.structs.get(typeName);
    if (!st) this.fail(`structure ${typeName} is not in Types.bsd`);
    const lengthFields = new Set(st.fields.filter((f) => f.lengthField).map((f) => f.lengthField));
    const bits = st.fields.filter((f) => f.type === "opc:Bit");
    const isUnion = st.fields.some((f) => f.name === "SwitchField" && f.type === "opc:UInt32");
    if (isUnion) {
      const chosen = st.fields.find((f) => f.switchValue !== undefined && child(el, f.name));
      w.u32(chosen ? Number(chosen.switchValue) : 0);
      if (chosen) this.field(w, chosen, el);
      return;
    }
    if (bits.length) {
      // Optional fields: a 32-bit mask, one bit per "…Specified" switch, set when present.
      let mask = 0;
      let bit = 0;
      for (const b of bits) {
        const guarded = st.fields.find((f) => f.switchField === b.name);
        if (guarded && child(el, guarded.name)) mask |= 1 << bit;
        bit += b.length;
      }
      if (bit !== 32) this.fail(`structure ${typeName} has ${bit} mask bits, expected 32`);
      w.u32(mask >>> 0);
    }
    for (const f of st.fields) {
      if (f.type === "opc:Bit" || lengthFields.has(f.name)) continue;
      if (f.switchField && !child(el, f.name)) continue;
      this.field(w, f, el);
    }
  }

  field(w, f, parent) {
    const el = child(parent, f.name);
    const [prefix, name] = f.type.split(":");
    const type = prefix === "opc" && name === "CharArray" ? "String" : name;
    const one = (item) => {
      if (prefix === "tns" && this.bsd.structs.has(type)) return this.structure(w, type, item ?? { children: [], text: "" });
      if (prefix === "tns" && this.bsd.enums.has(type)) {
        // XML writes enumerations as "Name_Value".
        const t = item ? item.text.trim() : "";
        const m = /_(-?\d+)$/.exec(t);
        return w.i32(t === "" ? 0 : m ? Number(m[1]) : Number(t));
      }
      if (builtinIds[type]) return this.builtin(w, type, item);
      return this.fail(`field ${f.name} has unsupported type ${f.type}`);
    };
    if (f.lengthField) {
      if (!el) return w.i32(-1);
      w.i32(el.children.length);
      for (const item of el.children) one(item);
      return;
    }
    one(el);
  }
}

// DataType name -> Default Binary encoding id, from the HasEncoding references of the NodeSets
// (stated on the DataType, on the encoding object as an inverse reference, or both).
function collectEncodings(sets) {
  const byXmlEncoding = new Map();
  const byTypeName = new Map();
  for (const set of sets) {
    const byId = new Map();
    for (const n of set.nodes) byId.set(keyOf(...Object.values(numericNodeId(n.attrs.NodeId, new Map(), set.file))), n);
    const types = new Map();  // DataType key -> { binary, xml: [] }
    const link = (typeKey, encKey, encNode) => {
      const entry = types.get(typeKey) ?? { binary: null, xml: [] };
      types.set(typeKey, entry);
      if (encNode.attrs.BrowseName === "Default Binary") entry.binary = encKey;
      if (encNode.attrs.BrowseName === "Default XML") entry.xml.push(encKey);
    };
    for (const n of set.nodes) {
      const self = numericNodeId(n.attrs.NodeId, new Map(), set.file);
      for (const r of childrenNamed(child(n, "References"), "Reference")) {
        const refType = numericNodeId(r.attrs.ReferenceType, set.aliases, `${set.file} ${n.attrs.NodeId}`);
        if (refType.ns !== 0 || refType.id !== 38) continue;  // HasEncoding
        const other = numericNodeId(r.text, set.aliases, set.file);
        const forward = r.attrs.IsForward !== "false";
        const typeId = forward ? self : other;
        const encId = forward ? other : self;
        const encNode = byId.get(keyOf(encId.ns, encId.id));
        if (encNode) link(keyOf(typeId.ns, typeId.id), encId, encNode);
      }
    }
    for (const [typeKey, entry] of types) {
      const typeNode = byId.get(typeKey);
      // Only namespace 0 encodings can be written as "i=N" here.
      if (!typeNode || !entry.binary || entry.binary.ns !== 0) continue;
      const enc = { name: typeNode.attrs.BrowseName.replace(/^\d+:/, ""), binaryId: entry.binary.id };
      byTypeName.set(enc.name, enc);
      for (const x of entry.xml) if (x.ns === 0) byXmlEncoding.set(keyOf(0, x.id), enc);
    }
  }
  return { byXmlEncoding, byTypeName };
}

// ---------------------------------------------------------------------------------------------
// Building the table.
const bsd = readBsd(args.bsd);
const set = readNodeSet(args.nodeset);
const base = args.base ? readNodeSet(args.base) : null;
const encodings = collectEncodings(base ? [base, set] : [set]);
if (encodings.byTypeName.size < 50) die("too few Default Binary encodings found; pass the base NodeSet with --base");

const namespaceUri = set.models[0] ?? set.uris[0] ?? "http://opcfoundation.org/UA/";
const nsCount = set.uris.length + 1;

function boolAttr(el, name, dflt) {
  const v = el.attrs[name];
  if (v === undefined) return dflt;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return die(`${set.file} ${el.attrs.NodeId}: ${name}="${v}" is not a Boolean`);
}
function numAttr(el, name, dflt) {
  const v = el.attrs[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (Number.isNaN(n)) die(`${set.file} ${el.attrs.NodeId}: ${name}="${v}" is not a number`);
  return n;
}
const checkNs = (id, where) => {
  if (id.ns >= nsCount) die(`${where}: namespace index ${id.ns} is not in the file's NamespaceUris`);
  return id;
};

const nodes = [];
const seenIds = new Set();
for (const el of set.nodes) {
  const where = `${set.file} ${el.attrs.NodeId ?? "(no NodeId)"}`;
  if (!el.attrs.NodeId || !el.attrs.BrowseName) die(`${where}: node without NodeId or BrowseName`);
  const id = checkNs(numericNodeId(el.attrs.NodeId, new Map(), where), where);
  const key = keyOf(id.ns, id.id);
  if (seenIds.has(key)) die(`${where}: duplicate NodeId`);
  seenIds.add(key);
  const bm = /^(?:(\d+):)?(.*)$/s.exec(el.attrs.BrowseName);
  const browseNs = bm[1] ? Number(bm[1]) : 0;
  if (browseNs >= nsCount) die(`${where}: BrowseName namespace ${browseNs} is not in the file's NamespaceUris`);
  const nodeClass = nodeElements[el.name];
  const isVar = nodeClass === 2 || nodeClass === 16;
  const dataType = isVar ? checkNs(numericNodeId(el.attrs.DataType ?? "i=24", set.aliases, where), where) : { ns: 0, id: 0 };
  const references = childrenNamed(child(el, "References"), "Reference").map((r) => {
    const type = checkNs(numericNodeId(r.attrs.ReferenceType, set.aliases, where), where);
    const target = checkNs(numericNodeId(r.text, set.aliases, where), where);
    return { type, target, forward: r.attrs.IsForward !== "false" };
  });
  let value = null;
  const valueEl = child(el, "Value");
  if (valueEl && valueEl.children.length > 0) {
    value = new ValueEncoder(bsd, set.aliases, encodings, where).variant(valueEl);
  }
  nodes.push({
    ns: id.ns,
    id: id.id,
    nodeClass,
    accessLevel: nodeClass === 2 ? numAttr(el, "AccessLevel", 1) : 0,
    browseName: bm[2],
    browseNs,
    displayName: (child(el, "DisplayName")?.text ?? bm[2]),
    description: child(el, "Description")?.text ?? null,
    inverseName: nodeClass === 32 ? child(el, "InverseName")?.text ?? null : null,
    arrayDimensions: isVar && el.attrs.ArrayDimensions !== undefined ? el.attrs.ArrayDimensions : null,
    dataType,
    valueRank: isVar ? numAttr(el, "ValueRank", -1) : 0,
    minimumSamplingInterval: nodeClass === 2 ? numAttr(el, "MinimumSamplingInterval", 0) : 0,
    eventNotifier: nodeClass === 1 || nodeClass === 128 ? numAttr(el, "EventNotifier", 0) : 0,
    isAbstract: boolAttr(el, "IsAbstract", false),
    symmetric: boolAttr(el, "Symmetric", false),
    executable: nodeClass === 4 ? boolAttr(el, "Executable", true) : false,
    historizing: nodeClass === 2 ? boolAttr(el, "Historizing", false) : false,
    containsNoLoops: nodeClass === 128 ? boolAttr(el, "ContainsNoLoops", false) : false,
    value,
    references,
  });
  if (nodes.at(-1).accessLevel > 255 || nodes.at(-1).eventNotifier > 255) die(`${where}: AccessLevel/EventNotifier out of range`);
}
nodes.sort((a, b) => a.ns - b.ns || a.id - b.id);
if (nodes.length !== set.sourceNodeCount) {
  die(`read ${nodes.length} nodes but the text has ${set.sourceNodeCount} node elements`);
}
const referenceCount = nodes.reduce((n, x) => n + x.references.length, 0);
if (referenceCount !== set.sourceReferenceCount) {
  die(`read ${referenceCount} references but the text has ${set.sourceReferenceCount}`);
}

// ---------------------------------------------------------------------------------------------
// Emitting C++.
const name = args.name;
const header = `// Generated by tools/gen_ua_nodeset.mjs from ${set.file.split("/").pop()}. Do not edit.\n`;
// A C++ string literal for arbitrary bytes: printable ASCII as is, everything else as
// three-digit octal escapes (which cannot run into a following digit), split over lines.
function literal(buf, indent = "    ") {
  const lines = [];
  let line = "";
  for (const b of buf) {
    let piece;
    if (b === 0x5c) piece = "\\\\";
    else if (b === 0x22) piece = '\\"';
    else if (b === 0x3f) piece = "\\?";
    else if (b >= 0x20 && b < 0x7f) piece = String.fromCharCode(b);
    else piece = "\\" + b.toString(8).padStart(3, "0");
    line += piece;
    if (line.length >= 110) {
      lines.push(`${indent}"${line}"`);
      line = "";
    }
  }
  if (line.length || lines.length === 0) lines.push(`${indent}"${line}"`);
  return lines.join("\n");
}

// Strings: one NUL-separated pool, deduplicated.
const stringOffsets = new Map();
const stringChunks = [];
let stringSize = 0;
function str(s) {
  if (s === null || s === undefined) return "nullptr";
  let off = stringOffsets.get(s);
  if (off === undefined) {
    off = stringSize;
    const b = Buffer.concat([Buffer.from(s, "utf8"), Buffer.from([0])]);
    stringChunks.push(b);
    stringSize += b.length;
    stringOffsets.set(s, off);
  }
  return `S + ${off}`;
}
// Values: one byte pool.
const valueChunks = [];
let valueSize = 0;
const fixups = [];

const pragma = `#if defined(__clang__)\n#pragma clang diagnostic ignored "-Woverlength-strings"\n#endif\n`;
const ns = "namespace castellan::ua::nodeset::generated";
let refIndex = 0;
const refLines = [];
const nodeLines = [];
nodes.forEach((n, index) => {
  let valueExpr = "nullptr, 0u";
  if (n.value) {
    const b = Buffer.from(n.value.bytes);
    valueExpr = `V + ${valueSize}, ${b.length}u`;
    for (const f of n.value.fixups) fixups.push(`{${index}u, ${f}u}`);
    valueChunks.push(b);
    valueSize += b.length;
  }
  const refsExpr = n.references.length ? `R + ${refIndex}, ${n.references.length}u` : "nullptr, 0u";
  for (const r of n.references) {
    refLines.push(`{${r.type.id}u, ${r.target.id}u, ${r.type.ns}, ${r.target.ns}, ${r.forward}},`);
  }
  refIndex += n.references.length;
  const msi = Number.isInteger(n.minimumSamplingInterval) ? `${n.minimumSamplingInterval}.0` : `${n.minimumSamplingInterval}`;
  nodeLines.push(
    `{${n.id}u, ${n.ns}, ${n.nodeClass}, ${n.accessLevel}, ${str(n.browseName)}, ${str(n.displayName)}, ` +
      `${str(n.description)}, ${str(n.inverseName)}, ${str(n.arrayDimensions)}, ${n.browseNs}, ${n.dataType.ns}, ` +
      `${n.dataType.id}u, ${n.valueRank}, ${msi}, ${n.eventNotifier}, ${n.isAbstract}, ${n.symmetric}, ` +
      `${n.executable}, ${n.historizing}, ${n.containsNoLoops}, ${valueExpr}, ${refsExpr}},`);
});

mkdirSync(args.out, { recursive: true });
const write = (file, text) => writeFileSync(join(args.out, file), text);

write(`${name}_strings.cpp`,
  `${header}${pragma}\n${ns} {\n\nextern const char ${name}_strings[];\nextern const char ${name}_strings[] =\n` +
  `${literal(Buffer.concat(stringChunks))};\n\n}  // ${ns}\n`);
write(`${name}_values.cpp`,
  `${header}${pragma}#include <cstdint>\n\n${ns} {\n\nextern const std::uint8_t ${name}_values[];\n` +
  `extern const std::uint8_t ${name}_values[] =\n${literal(Buffer.concat(valueChunks))};\n\n}  // ${ns}\n`);
write(`${name}_references.cpp`,
  `${header}#include "ua/nodeset/nodeset.h"\n\n${ns} {\n\nextern const reference ${name}_references[];\n` +
  `extern const reference ${name}_references[] = {\n${refLines.join("\n")}\n};\n\n}  // ${ns}\n`);

const uriList = set.uris.map((u) => `"${u.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(", ");
write(`${name}_nodes.cpp`,
  `${header}#include "ua/nodeset/nodeset.h"\n\n${ns} {\n\n` +
  `extern const char ${name}_strings[];\nextern const std::uint8_t ${name}_values[];\n` +
  `extern const reference ${name}_references[];\n\nnamespace {\n\n` +
  `constexpr const char* S = ${name}_strings;\n` +
  `[[maybe_unused]] constexpr const std::uint8_t* V = ${name}_values;\n` +
  `[[maybe_unused]] constexpr const reference* R = ${name}_references;\n\n` +
  `// {id, ns, node_class, access_level, browse_name, display_name, description, inverse_name, array_dimensions,\n` +
  `//  browse_name_ns, data_type_ns, data_type, value_rank, minimum_sampling_interval, event_notifier,\n` +
  `//  is_abstract, symmetric, executable, historizing, contains_no_loops, value, value_size, references, count}\n` +
  `const node nodes[] = {\n${nodeLines.join("\n")}\n};\n\n` +
  (fixups.length ? `const value_fixup fixups[] = {\n${fixups.join(",\n")}\n};\n\n` : "") +
  (set.uris.length ? `const char* const uris[] = {${uriList}};\n\n` : "") +
  `}  // namespace\n\n}  // ${ns}\n\nnamespace castellan::ua::nodeset {\n\n` +
  `const table& ${args.function}() {\n` +
  `  static const table t{"${namespaceUri}", ${set.uris.length ? "generated::uris" : "{}"}, generated::nodes, ` +
  `${fixups.length ? "generated::fixups" : "{}"}, ${set.sourceNodeCount}u, ${set.sourceReferenceCount}u};\n` +
  `  return t;\n}\n\n}  // namespace castellan::ua::nodeset\n`);

console.log(`gen_ua_nodeset: ${name}: ${nodes.length} nodes, ${referenceCount} references, ` +
  `${valueChunks.length} values (${valueSize} bytes, ${fixups.length} namespace fixups), ${stringSize} bytes of strings`);
