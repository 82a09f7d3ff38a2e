// node-opcua as the administrator's tool for OPC UA push certificate management (Part 12
// §7.10) against castellan. Prints one JSON line per run:
//   {"ok":true,...} (exit 0) or {"ok":false,"status":"BadSomething","message":"…"} (exit 1).
//
//   node ua_push_peer.mjs COMMAND --url opc.tcp://127.0.0.1:PORT [--policy P] [--mode M] [--pki DIR]
//        [--user NAME --password P] [--cert C.pem --key K.pem --app-uri URI] [--timeout MS]
//   COMMAND:
//     config                       ServerConfiguration and TrustList properties
//     trust-read [--masks N]       Open (or OpenWithMasks), Read in chunks, Close; decodes the TrustListDataType
//     trust-write --masks N [--trusted a.der,b.der] [--issuers c.der] [--trusted-crls x.crl] [--issuer-crls y.crl]
//                                  Open(Write|EraseExisting), Write in chunks, CloseAndUpdate
//     trust-add --der F --trusted true|false       AddCertificate
//     trust-remove --thumbprint T --trusted true|false   RemoveCertificate
//     open-and-leave               opens the TrustList for writing and disconnects without Close
//     open                         Open(Read) and report the status (access checks)
//     rejected                     GetRejectedList
//     csr --out F.der [--subject S] [--regenerate true|false]   CreateSigningRequest
//     update --new-cert F.der [--issuers a.der,b.der] [--key-pem K.pem]   UpdateCertificate
//     apply                        ApplyChanges
//     get-certificates             GetCertificates (DefaultApplicationGroup)
//     server-cert                  connects (new channel) and reports the certificate the server used
//     hold --until FILE [--reconnect true]   one session: Read, wait until FILE exists, Read again
import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import {
  OPCUAClient, MessageSecurityMode, SecurityPolicy, AttributeIds, UserTokenType, DataType, VariantArrayType, resolveNodeId,
} from "node-opcua-client";
import { OPCUACertificateManager } from "node-opcua-certificate-manager";
import { TrustListDataType } from "node-opcua-types";
import { BinaryStream } from "node-opcua-binary-stream";

const command = process.argv[2];
const opt = {};
const argv = process.argv.slice(3);
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith("--")) usage(`unexpected ${argv[i]}`);
  opt[argv[i].slice(2)] = argv[i + 1];
}
function usage(why) {
  console.log(JSON.stringify({ ok: false, status: "usage", message: why }));
  process.exit(2);
}
function out(result, code = 0) {
  console.log(JSON.stringify(result));
  process.exit(code);
}
function statusName(e) {
  const m = String(e?.message ?? e).match(/\b(Bad[A-Za-z]+)\b/);
  return m ? m[1] : "BadCommunicationError";
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A ServerCertificate may be a chain (the leaf, then its issuers, DER back to back): the leaf
// is the first DER SEQUENCE, whose length its header gives.
function leafOf(der) {
  if (der.length < 2 || der[0] !== 0x30) return der;
  const first = der[1];
  if (first < 0x80) return der.subarray(0, 2 + first);
  const n = first & 0x7f;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + der[2 + i];
  return der.subarray(0, 2 + n + length);
}
const thumbprint = (der) => createHash("sha1").update(leafOf(der)).digest("hex").toUpperCase();
const chainLength = (der) => {
  let count = 0;
  for (let rest = der; rest.length > 0; count++) rest = rest.subarray(leafOf(rest).length);
  return count;
};
const files = (list) => (list ? list.split(",").filter(Boolean).map((f) => readFileSync(f)) : []);

// Part 12 / Part 5 node ids (namespace 0).
const SC = "i=12637";                  // Server.ServerConfiguration
const TL = "i=12642";                  // …CertificateGroups.DefaultApplicationGroup.TrustList
const M = {
  open: "i=12647", close: "i=12650", read: "i=12652", write: "i=12655", openWithMasks: "i=12663",
  closeAndUpdate: "i=12666", addCertificate: "i=12668", removeCertificate: "i=12670",
  updateCertificate: "i=13737", applyChanges: "i=12740", createSigningRequest: "i=12737",
  getRejectedList: "i=12777", getCertificates: "i=32296",
};
const P = {
  serverCapabilities: "i=12710", supportedPrivateKeyFormats: "i=12639", maxTrustListSize: "i=12640",
  multicastDnsEnabled: "i=12641", certificateTypes: "i=14161", size: "i=12643", writable: "i=14157",
  userWritable: "i=14158", openCount: "i=12646", lastUpdateTime: "i=12662",
};
const v = {
  byte: (x) => ({ dataType: DataType.Byte, value: x }),
  u32: (x) => ({ dataType: DataType.UInt32, value: x }),
  i32: (x) => ({ dataType: DataType.Int32, value: x }),
  bool: (x) => ({ dataType: DataType.Boolean, value: x }),
  str: (x) => ({ dataType: DataType.String, value: x }),
  nodeId: (x) => ({ dataType: DataType.NodeId, value: resolveNodeId(x) }),
  bytes: (x) => ({ dataType: DataType.ByteString, value: x }),
  bytesArray: (x) => ({ dataType: DataType.ByteString, arrayType: VariantArrayType.Array, value: x }),
};

async function makeClient() {
  const pki = opt.pki ?? "./pki-client";
  mkdirSync(pki, { recursive: true });
  const certificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
  await certificateManager.initialize();
  const options = {
    applicationName: "castellan-push-interop",
    applicationUri: opt["app-uri"] ?? `urn:${hostname()}:castellan-interop`,
    endpointMustExist: false,
    securityMode: MessageSecurityMode[opt.mode ?? "SignAndEncrypt"],
    securityPolicy: SecurityPolicy[opt.policy ?? "Basic256Sha256"],
    connectionStrategy: opt.reconnect === "true" ? { maxRetry: 60, initialDelay: 200, maxDelay: 1000 }
                                                 : { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    clientCertificateManager: certificateManager,
  };
  if (opt.cert) options.certificateFile = opt.cert;
  if (opt.key) options.privateKeyFile = opt.key;
  return OPCUAClient.create(options);
}

function identity() {
  if (opt.user) return { type: UserTokenType.UserName, userName: opt.user, password: opt.password ?? "" };
  return { type: UserTokenType.Anonymous };
}

async function withSession(fn) {
  const client = await makeClient();
  await client.connect(opt.url);
  try {
    const session = await client.createSession(identity());
    try {
      return await fn(session, client);
    } finally {
      await session.close().catch(() => {});
    }
  } finally {
    await client.disconnect();
  }
}

// Calls a method; throws "BadX" unless Good; returns the output values.
async function call(session, objectId, methodId, inputArguments = []) {
  const r = await session.call({ objectId, methodId, inputArguments });
  if (r.statusCode.name !== "Good") throw new Error(`${r.statusCode.name}: ${methodId} on ${objectId}`);
  return (r.outputArguments ?? []).map((x) => x.value);
}

async function read(session, nodeId) {
  const dv = await session.read({ nodeId, attributeId: AttributeIds.Value });
  if (dv.statusCode.name !== "Good") throw new Error(`${dv.statusCode.name}: read ${nodeId}`);
  return dv.value.value;
}

// Property values as JSON: dates as ISO text, NodeIds as text, UInt64 ([high, low]) as a number.
function plain(value) {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value) && value.length === 2 && value.every((x) => typeof x === "number")) {
    return value[0] * 2 ** 32 + value[1];
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value, (x) => plain(x));
  if (value && typeof value === "object" && typeof value.toString === "function" && value.constructor?.name === "NodeId") {
    return value.toString();
  }
  return value;
}

function decodeTrustList(buffer) {
  const lists = new TrustListDataType();
  lists.decode(new BinaryStream(buffer));
  return lists;
}

function describeLists(lists) {
  const names = (xs) => (xs ?? []).map((b) => thumbprint(b));
  return {
    specified_lists: lists.specifiedLists,
    trusted_certificates: names(lists.trustedCertificates),
    trusted_crls: (lists.trustedCrls ?? []).length,
    issuer_certificates: names(lists.issuerCertificates),
    issuer_crls: (lists.issuerCrls ?? []).length,
  };
}

const commands = {
  async config() {
    return withSession(async (session) => {
      const r = {};
      for (const [name, node] of Object.entries(P)) r[name] = plain(await read(session, node));
      return r;
    });
  },
  async "trust-read"() {
    return withSession(async (session) => {
      const [handle] = opt.masks !== undefined
        ? await call(session, TL, M.openWithMasks, [v.u32(Number(opt.masks))])
        : await call(session, TL, M.open, [v.byte(1)]);
      const openCount = await read(session, P.openCount);
      const chunks = [];
      let reads = 0;
      for (;;) {
        const [data] = await call(session, TL, M.read, [v.u32(handle), v.i32(Number(opt.chunk ?? 1000))]);
        reads++;
        if (!data || data.length === 0) break;
        chunks.push(data);
      }
      await call(session, TL, M.close, [v.u32(handle)]);
      const bytes = Buffer.concat(chunks);
      return { bytes: bytes.length, reads, open_count_while_open: openCount, ...describeLists(decodeTrustList(bytes)) };
    });
  },
  async "trust-write"() {
    const lists = new TrustListDataType({
      specifiedLists: Number(opt.masks ?? 15),
      trustedCertificates: files(opt.trusted),
      trustedCrls: files(opt["trusted-crls"]),
      issuerCertificates: files(opt.issuers),
      issuerCrls: files(opt["issuer-crls"]),
    });
    const stream = new BinaryStream(lists.binaryStoreSize());
    lists.encode(stream);
    const encoded = stream.buffer;
    return withSession(async (session) => {
      const [handle] = await call(session, TL, M.open, [v.byte(6)]);
      for (let at = 0; at < encoded.length; at += 700) {
        await call(session, TL, M.write, [v.u32(handle), v.bytes(encoded.subarray(at, at + 700))]);
      }
      const [applyChangesRequired] = await call(session, TL, M.closeAndUpdate, [v.u32(handle)]);
      return { written: encoded.length, apply_changes_required: applyChangesRequired };
    });
  },
  async "trust-add"() {
    const der = readFileSync(opt.der);
    return withSession(async (session) => {
      await call(session, TL, M.addCertificate, [v.bytes(der), v.bool(opt.trusted === "true")]);
      return { added: thumbprint(der) };
    });
  },
  async "trust-remove"() {
    return withSession(async (session) => {
      await call(session, TL, M.removeCertificate, [v.str(opt.thumbprint), v.bool(opt.trusted === "true")]);
      return { removed: opt.thumbprint };
    });
  },
  async "open-and-leave"() {
    // The session closes with the handle still open: the server must free it.
    return withSession(async (session) => {
      const [handle] = await call(session, TL, M.open, [v.byte(6)]);
      return { handle, open_count: await read(session, P.openCount) };
    });
  },
  async open() {
    return withSession(async (session) => {
      const [handle] = await call(session, TL, M.open, [v.byte(1)]);
      await call(session, TL, M.close, [v.u32(handle)]);
      return { handle };
    });
  },
  async rejected() {
    return withSession(async (session) => {
      const [certs] = await call(session, SC, M.getRejectedList);
      return { rejected: (certs ?? []).map((b) => thumbprint(b)) };
    });
  },
  async csr() {
    return withSession(async (session) => {
      const [csr] = await call(session, SC, M.createSigningRequest, [
        v.nodeId("i=14156"), v.nodeId("i=12560"), v.str(opt.subject ?? ""), v.bool(opt.regenerate === "true"),
        v.bytes(Buffer.from(createHash("sha256").update(String(Date.now())).digest())),
      ]);
      writeFileSync(opt.out, csr);
      return { csr_bytes: csr.length };
    });
  },
  async update() {
    const cert = readFileSync(opt["new-cert"]);
    const key = opt["key-pem"] ? readFileSync(opt["key-pem"]) : null;
    return withSession(async (session) => {
      const [applyChangesRequired] = await call(session, SC, M.updateCertificate, [
        v.nodeId("i=14156"), v.nodeId("i=12560"), v.bytes(cert), v.bytesArray(files(opt.issuers)),
        v.str(key ? "PEM" : ""), v.bytes(key ?? Buffer.alloc(0)),
      ]);
      return { apply_changes_required: applyChangesRequired, thumbprint: thumbprint(cert) };
    });
  },
  async apply() {
    return withSession(async (session) => {
      await call(session, SC, M.applyChanges);
      return {};
    });
  },
  async "get-certificates"() {
    return withSession(async (session) => {
      const [types, certs] = await call(session, SC, M.getCertificates, [v.nodeId("i=14156")]);
      return { types: (types ?? []).map((t) => t.toString()), certificates: (certs ?? []).map((b) => thumbprint(b)) };
    });
  },
  async "server-cert"() {
    return withSession(async (session, client) => {
      const endpoints = await client.getEndpoints();
      const status = await read(session, "i=2259");
      return {
        session_server_certificate: thumbprint(session.serverCertificate),
        session_server_chain_length: chainLength(session.serverCertificate),
        endpoint_certificates: [...new Set(endpoints.map((e) => thumbprint(e.serverCertificate)))],
        server_state: status,
      };
    });
  },
  async hold() {
    // With --reconnect true the client rides out a lost connection the way node-opcua does:
    // a new channel, a new server certificate fetched when the old one is refused.
    return withSession(async (session, client) => {
      const first = (await session.read({ nodeId: "i=2258", attributeId: AttributeIds.Value })).statusCode.name;
      const before = thumbprint(session.serverCertificate);
      for (let i = 0; i < 1200 && !existsSync(opt.until); i++) await sleep(100);
      let second = "none";
      for (let i = 0; i < (opt.reconnect === "true" ? 60 : 1); i++) {
        try {
          second = (await session.read({ nodeId: "i=2258", attributeId: AttributeIds.Value })).statusCode.name;
          if (second === "Good") break;
        } catch (e) {
          second = statusName(e);
        }
        await sleep(500);
      }
      return { first, second, server_certificate: before, server_certificate_after: thumbprint(client.serverCertificate ?? Buffer.alloc(0)) };
    });
  },
};

if (!commands[command]) usage(`unknown command ${command}`);
if (!opt.url) usage("--url is required");
const timer = setTimeout(() => out({ ok: false, status: "BadTimeout", message: "no answer in time" }, 1),
                         Number(opt.timeout ?? 60000));
try {
  const result = await commands[command]();
  clearTimeout(timer);
  out({ ok: true, ...result });
} catch (e) {
  clearTimeout(timer);
  if (process.env.UA_PEER_DEBUG) console.error(e);
  out({ ok: false, status: statusName(e), message: String(e?.message ?? e).split("\n")[0] }, 1);
}
