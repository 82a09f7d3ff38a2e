// node-opcua's real OPC UA client as a one-shot CLI for castellan's interop tests.
//
//   node client.mjs COMMAND --url opc.tcp://127.0.0.1:PORT [options]
//
// Prints exactly ONE JSON line on stdout (node-opcua's own logging goes to stderr) and exits
//   0  success                       {"ok":true,"command":...,...}
//   1  an OPC UA failure             {"ok":false,"command":...,"status":"BadSecurityChecksFailed","code":2148728832,"stage":"connect","message":...}
//   2  a usage error                 {"ok":false,"status":"usage","message":...}
// Run `node client.mjs --help` for the commands and options; README.md has the output shapes.

const HELP = `usage: node client.mjs COMMAND --url opc.tcp://HOST:PORT [options]
commands:
  endpoints                 GetEndpoints: url, policy, mode, user tokens, server cert thumbprint
  findservers               FindServers
  connect                   secure channel + CreateSession + ActivateSession, then CloseSession
  read-status               ServerStatus (i=2256), CurrentTime (i=2258) twice 1.1 s apart, NamespaceArray (i=2255)
  browse                    Root (i=84) -> Objects -> Server over hierarchical references; BrowseNext paging
  translate [--path /Objects/Server/ServerStatus] [--start i=84]
  call [--object i=2253] [--method i=11492] [--args '[{"type":"UInt32","value":1}]']
  read --node ID [--attribute Value|BrowseName|DisplayName|NodeClass|DataType|...]
  write --node ID --value JSON           JSON: plain value, or {"type":"Int32","value":5}
  register [--node ID[,ID...]]           RegisterNodes, read through the alias, UnregisterNodes
  session-timeout [--session-timeout 2000] [--idle MS]   idle past the timeout, then Read
  concurrent --clients N                 N clients in parallel: connect + session + read
options:
  --policy None|Basic256Sha256|Aes128_Sha256_RsaOaep|Aes256_Sha256_RsaPss|Basic256|Basic128Rsa15
  --mode None|Sign|SignAndEncrypt        (default: None with policy None, else SignAndEncrypt)
  --cert C.pem --key K.pem [--application-uri URI]   client application instance certificate
  --pki DIR                              node-opcua's own client PKI (default ./pki-client)
  --user NAME --password P               UserName identity token
  --user-cert UC.pem --user-key UK.pem   X509 identity token
  --timeout MS                           per request / connect timeout, and the whole run's watchdog base (default 15000)`;

const VALUE_OPTS = new Set([
  "url", "policy", "mode", "cert", "key", "application-uri", "pki", "user", "password", "user-cert", "user-key",
  "timeout", "object", "method", "args", "node", "attribute", "value", "clients", "session-timeout", "idle", "path",
  "start", "max-refs",
]);
const COMMANDS = [
  "endpoints", "findservers", "connect", "read-status", "browse", "translate", "call", "read", "write", "register",
  "session-timeout", "concurrent",
];
const POLICIES = ["None", "Basic128Rsa15", "Basic256", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"];
const MODES = ["None", "Sign", "SignAndEncrypt"];

// ---------------------------------------------------------------- output discipline
// node-opcua logs with console.log; keep stdout for the one JSON line.
const stdoutWrite = process.stdout.write.bind(process.stdout);
console.log = (...a) => process.stderr.write(a.map(String).join(" ") + "\n");
console.info = console.log;
console.warn = console.log;
let emitted = false;
let command = "";
function emit(obj, code) {
  if (emitted) return;
  emitted = true;
  stdoutWrite(JSON.stringify(obj) + "\n", () => process.exit(code));
  setTimeout(() => process.exit(code), 500).unref();
}
// a usage error anywhere in a run: reported as {"status":"usage"}, exit 2
class UsageExit extends Error {}
function usage(why) {
  throw new UsageExit(why);
}

// ---------------------------------------------------------------- arguments
let opt = {};
function parseArgs(argv) {
  opt = {};
  command = "";
  if (argv.length === 0) usage("a command is required");
  if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") usage("help");
  command = argv[0];
  if (!COMMANDS.includes(command)) usage(`unknown command ${command}`);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help") usage("help");
    if (!a.startsWith("--")) usage(`unexpected argument ${a}`);
    const k = a.slice(2);
    if (!VALUE_OPTS.has(k)) usage(`unknown option --${k}`);
    if (i + 1 >= argv.length) usage(`--${k} needs a value`);
    opt[k] = argv[++i];
  }
  if (!opt.url) usage("--url opc.tcp://HOST:PORT is required");
  if (!/^opc\.tcp:\/\/[^/:]+(:\d+)?(\/.*)?$/.test(opt.url)) usage(`--url must be opc.tcp://HOST:PORT, got ${opt.url}`);
  if (opt.policy && !POLICIES.includes(opt.policy)) usage(`unknown --policy ${opt.policy}`);
  if (opt.mode && !MODES.includes(opt.mode)) usage(`unknown --mode ${opt.mode}`);
  if (!opt.policy) opt.policy = opt.mode && opt.mode !== "None" ? "Basic256Sha256" : "None";
  if (!opt.mode) opt.mode = opt.policy === "None" ? "None" : "SignAndEncrypt";
  if ((opt.policy === "None") !== (opt.mode === "None")) usage(`--policy ${opt.policy} cannot go with --mode ${opt.mode}`);
  if (!!opt.cert !== !!opt.key) usage("--cert and --key go together");
  if (opt.user !== undefined && opt.password === undefined) usage("--user needs --password");
  if (opt.password !== undefined && opt.user === undefined) usage("--password needs --user");
  if (!!opt["user-cert"] !== !!opt["user-key"]) usage("--user-cert and --user-key go together");
  if (opt.user !== undefined && opt["user-cert"]) usage("--user and --user-cert are exclusive");
  for (const k of ["timeout", "clients", "session-timeout", "idle", "max-refs"]) {
    if (opt[k] !== undefined && !/^\d+$/.test(opt[k])) usage(`--${k} must be a non-negative integer`);
  }
  if (opt.idle !== undefined && Number(opt.idle) > 180000) usage("--idle is at most 180000 ms");
  opt.timeout = Number(opt.timeout ?? 15000);
  if (opt.timeout < 100) usage("--timeout must be at least 100 ms");
  if (command === "read" && !opt.node) usage("read needs --node ID");
  if (command === "write" && (!opt.node || opt.value === undefined)) usage("write needs --node ID --value JSON");
  if (command === "concurrent") {
    opt.clients = Number(opt.clients ?? 4);
    if (opt.clients < 1 || opt.clients > 500) usage("--clients must be 1..500");
  }
  for (const k of ["args", "value"]) {
    if (opt[k] !== undefined) {
      try {
        opt[k] = JSON.parse(opt[k]);
      } catch (e) {
        usage(`--${k} is not JSON: ${e.message}`);
      }
    }
  }
  if (opt.args !== undefined && !Array.isArray(opt.args)) usage("--args must be a JSON array");
  for (const k of ["cert", "key", "user-cert", "user-key"]) {
    if (opt[k] === undefined) continue;
    try {
      readFileSync(opt[k]);
    } catch (e) {
      usage(`--${k}: cannot read ${opt[k]}: ${e.code ?? e.message}`);
    }
  }
}

// ---------------------------------------------------------------- helpers
let ua; // node-opcua, loaded after the console is redirected
const { readFileSync, mkdirSync } = await import("node:fs");
const { X509Certificate, createHash } = await import("node:crypto");
const path = (await import("node:path")).default;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class UaFailure extends Error {
  constructor(status, message, stage, extra = {}) {
    super(message);
    this.status = status;
    this.stage = stage;
    this.extra = extra;
  }
}

function statusCodeValue(name) {
  const sc = ua?.StatusCodes?.[name];
  return sc ? sc.value : undefined;
}
function statusName(sc) {
  if (sc === undefined || sc === null) return undefined;
  if (typeof sc === "string") return sc;
  if (typeof sc.name === "string") return sc.name;
  if (typeof sc.value === "number") return `0x${sc.value.toString(16).padStart(8, "0")}`;
  return String(sc);
}
function isGood(sc) {
  return sc && typeof sc.value === "number" ? (sc.value & 0xc0000000) === 0 : statusName(sc) === "Good";
}
function isBad(sc) {
  return sc && typeof sc.value === "number" ? (sc.value & 0x80000000) !== 0 : /^Bad/.test(statusName(sc) ?? "");
}
// The status an exception stands for: a decoded ServiceFault, a StatusCode the error carries,
// a Bad... name in the message, or a transport error.
function statusOfError(e) {
  if (e instanceof UaFailure) return e.status;
  const fromResponse = e?.response?.responseHeader?.serviceResult;
  if (fromResponse && isBad(fromResponse)) return statusName(fromResponse);
  if (e?.statusCode && isBad(e.statusCode)) return statusName(e.statusCode);
  const text = `${e?.message ?? e}`;
  const m = text.match(/\b(Bad[A-Z][A-Za-z0-9]+)\b/);
  if (m) return m[1];
  if (/ECONNREFUSED/.test(text)) return "BadNotConnected";
  // node-opcua's own refusals (see clientSide): GetEndpoints offered no such endpoint / token policy
  if (/Cannot find an Endpoint matching/i.test(text)) return "BadSecurityPolicyRejected";
  if (/Cannot find .* user token policy/i.test(text)) return "BadIdentityTokenInvalid";
  if (/ECONNRESET|EPIPE|socket has been disconnected|premature|Connection Break|closed by server/i.test(text)) return "BadConnectionClosed";
  if (/timeout|timed out/i.test(text)) return "BadTimeout";
  return "BadCommunicationError";
}
function failure(e, stage) {
  if (e instanceof UsageExit) throw e;
  const status = statusOfError(e);
  const out = {
    ok: false,
    command,
    status,
    code: statusCodeValue(status),
    stage: e instanceof UaFailure ? e.stage ?? stage : stage,
    message: `${e?.message ?? e}`.split("\n").slice(0, 4).join(" | ").slice(0, 600),
  };
  // true when node-opcua refused by itself, from what GetEndpoints said, and sent nothing:
  // the server never saw the request the status names.
  if (/Cannot find an Endpoint matching|Cannot find .* user token policy/i.test(out.message)) out.clientSide = true;
  if (e instanceof UaFailure) Object.assign(out, e.extra);
  return out;
}

function sha1Thumbprint(der) {
  if (!der || der.length === 0) return null;
  return createHash("sha1").update(firstCertificate(Buffer.from(der))).digest("hex").toUpperCase();
}
// A DER chain is certificates back to back; the first one's length is in its SEQUENCE header.
function firstCertificate(buf) {
  if (buf[0] !== 0x30 || buf.length < 4) return buf;
  let len = buf[1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[2 + i];
    hdr = 2 + n;
  }
  return buf.subarray(0, Math.min(buf.length, hdr + len));
}
function readPemCertificate(file) {
  try {
    return new X509Certificate(readFileSync(file));
  } catch (e) {
    usage(`cannot read certificate ${file}: ${e.message}`);
  }
}
function sanUri(cert) {
  const san = cert.subjectAltName ?? "";
  const m = san.match(/URI:([^,]+)/);
  return m ? m[1].trim() : undefined;
}
function policyShort(uri) {
  const s = `${uri ?? ""}`;
  return s.includes("#") ? s.split("#")[1] : s;
}
function modeName(m) {
  return typeof m === "number" ? ua.MessageSecurityMode[m] : `${m}`;
}
function tokenTypeName(t) {
  return typeof t === "number" ? ua.UserTokenType[t] : `${t}`;
}
function nodeIdString(n) {
  return n === undefined || n === null ? null : n.toString();
}
function qualifiedName(q) {
  if (!q) return null;
  return q.namespaceIndex ? `${q.namespaceIndex}:${q.name}` : `${q.name}`;
}

// A JSON-safe picture of what node-opcua decoded.
function jsonable(v, depth = 0) {
  if (v === null || v === undefined) return null;
  if (depth > 8) return "…";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (Buffer.isBuffer(v)) return { base64: v.toString("base64") };
  if (ArrayBuffer.isView(v)) return Array.from(v, (x) => jsonable(x, depth + 1));
  if (Array.isArray(v)) return v.map((x) => jsonable(x, depth + 1));
  const ctor = v.constructor?.name;
  if (ctor === "NodeId" || ctor === "ExpandedNodeId") return v.toString();
  if (ctor === "QualifiedName") return qualifiedName(v);
  if (ctor === "LocalizedText") return { locale: v.locale ?? null, text: v.text ?? null };
  if (ctor === "ConstantStatusCode" || ctor === "ModifiableStatusCode" || ctor === "StatusCode") return statusName(v);
  if (ctor === "Variant") return variantJson(v);
  const out = {};
  const keys = v.schema?.fields ? v.schema.fields.map((f) => f.name) : Object.keys(v);
  for (const k of keys) {
    if (k.startsWith("_") || typeof v[k] === "function") continue;
    out[k] = jsonable(v[k], depth + 1);
  }
  return out;
}
function variantJson(variant) {
  if (!variant) return null;
  return {
    type: ua.DataType[variant.dataType] ?? variant.dataType,
    arrayType: ua.VariantArrayType[variant.arrayType] ?? variant.arrayType,
    value: jsonable(variant.value),
  };
}
function dataValueJson(dv) {
  return {
    status: statusName(dv.statusCode),
    value: variantJson(dv.value),
    sourceTimestamp: jsonable(dv.sourceTimestamp),
    serverTimestamp: jsonable(dv.serverTimestamp),
  };
}

// "i=2253", "ns=1;s=Harness.Add", ... as a NodeId, or a usage error
function nodeIdArg(text, what) {
  try {
    return ua.resolveNodeId(text);
  } catch (e) {
    usage(`${what}: not a NodeId: ${text} (${e.message})`);
  }
}

// A typed Variant from the JSON form {"type":"UInt32","value":1}, or a plain value with a
// DataType taken from the server when known (a builtin type id) or guessed from JSON.
function toVariant(spec, dataTypeHint) {
  if (spec && typeof spec === "object" && !Array.isArray(spec) && "type" in spec) {
    const dt = ua.DataType[spec.type];
    if (dt === undefined) usage(`unknown DataType ${spec.type}`);
    const arrayType = Array.isArray(spec.value) ? ua.VariantArrayType.Array : ua.VariantArrayType.Scalar;
    return new ua.Variant({ dataType: dt, arrayType, value: coerceForType(dt, spec.value) });
  }
  let dt = dataTypeHint;
  if (dt === undefined || dt === ua.DataType.Null || dt === ua.DataType.Variant || dt === ua.DataType.BaseDataType) {
    if (typeof spec === "boolean") dt = ua.DataType.Boolean;
    else if (typeof spec === "number") dt = Number.isInteger(spec) ? ua.DataType.Int32 : ua.DataType.Double;
    else if (typeof spec === "string") dt = ua.DataType.String;
    else if (Array.isArray(spec) && spec.length && typeof spec[0] === "number") dt = ua.DataType.Int32;
    else if (Array.isArray(spec)) dt = ua.DataType.String;
    else usage(`cannot guess a DataType for ${JSON.stringify(spec)}: give {"type":...,"value":...}`);
  }
  const arrayType = Array.isArray(spec) ? ua.VariantArrayType.Array : ua.VariantArrayType.Scalar;
  return new ua.Variant({ dataType: dt, arrayType, value: coerceForType(dt, spec) });
}
function coerceForType(dt, v) {
  if (Array.isArray(v)) return v.map((x) => coerceForType(dt, x));
  switch (dt) {
    case ua.DataType.DateTime: return new Date(v);
    case ua.DataType.ByteString: return Buffer.from(`${v}`, "base64");
    case ua.DataType.NodeId: return ua.resolveNodeId(`${v}`);
    case ua.DataType.LocalizedText: return typeof v === "string" ? { text: v } : v;
    case ua.DataType.QualifiedName: return typeof v === "string" ? { name: v } : v;
    case ua.DataType.Int64: case ua.DataType.UInt64: return typeof v === "string" ? BigInt(v) : v;
    default: return v;
  }
}
function builtinOf(nodeId) {
  // a DataType NodeId of ns=0 with a numeric id of a builtin type (1..25) is that builtin
  if (nodeId && nodeId.namespace === 0 && typeof nodeId.value === "number" && nodeId.value >= 1 && nodeId.value <= 25) {
    return nodeId.value;
  }
  return undefined;
}

// ---------------------------------------------------------------- client, session
let certificateManager; // shared by every client of this run (concurrent)
async function getCertificateManager() {
  if (certificateManager) return certificateManager;
  const rootFolder = path.resolve(opt.pki ?? "./pki-client");
  mkdirSync(rootFolder, { recursive: true });
  certificateManager = new ua.OPCUACertificateManager({ rootFolder, automaticallyAcceptUnknownCertificate: true });
  await certificateManager.initialize();
  return certificateManager;
}

function applicationUri() {
  if (opt["application-uri"]) return opt["application-uri"];
  if (opt.cert) {
    const uri = sanUri(readPemCertificate(opt.cert));
    if (uri) return uri;
  }
  return "urn:castellan:harness:node-opcua-client";
}

async function makeClient(extra = {}) {
  const options = {
    applicationName: "castellan harness (node-opcua client)",
    applicationUri: applicationUri(),
    clientName: "castellan-harness",
    endpointMustExist: false,
    securityMode: ua.MessageSecurityMode[opt.mode],
    securityPolicy: ua.SecurityPolicy[opt.policy],
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200, randomisationFactor: 0 },
    keepSessionAlive: false,
    transportTimeout: opt.timeout,
    defaultTransactionTimeout: opt.timeout,
    requestedSessionTimeout: 60000,
    clientCertificateManager: await getCertificateManager(),
    ...extra,
  };
  if (opt.cert) {
    options.certificateFile = path.resolve(opt.cert);
    options.privateKeyFile = path.resolve(opt.key);
  }
  const client = ua.OPCUAClient.create(options);
  client.on("backoff", (n, delay) => process.stderr.write(`client.mjs: backoff ${n} ${delay}\n`));
  return client;
}

function userIdentity() {
  if (opt.user !== undefined) {
    return { type: ua.UserTokenType.UserName, userName: opt.user, password: opt.password };
  }
  if (opt["user-cert"]) {
    const cert = readPemCertificate(opt["user-cert"]);
    let key;
    try {
      key = readFileSync(opt["user-key"], "utf8");
    } catch (e) {
      usage(`cannot read --user-key ${opt["user-key"]}: ${e.message}`);
    }
    return { type: ua.UserTokenType.Certificate, certificateData: cert.raw, privateKey: key };
  }
  return { type: ua.UserTokenType.Anonymous };
}
function identityName() {
  if (opt.user !== undefined) return "UserName";
  if (opt["user-cert"]) return "Certificate";
  return "Anonymous";
}

// Service calls go straight to the wire: node-opcua would otherwise answer a
// BadSessionIdInvalid by quietly recreating the session and replaying the request,
// which hides exactly what these tests look at.
function rawTransactions(session) {
  session.performMessageTransaction = (request, callback) => session._performMessageTransaction(request, callback);
  return session;
}

async function connectClient(client) {
  try {
    await client.connect(opt.url);
  } catch (e) {
    if (e instanceof UsageExit) throw e;
    throw new UaFailure(statusOfError(e), `${e?.message ?? e}`, "connect");
  }
}
async function openSession(client) {
  let session;
  try {
    session = await client.createSession(userIdentity());
  } catch (e) {
    if (e instanceof UsageExit) throw e;
    throw new UaFailure(statusOfError(e), `${e?.message ?? e}`, "session");
  }
  return rawTransactions(session);
}
async function quietly(p) {
  try {
    await p;
  } catch {
    /* cleanup */
  }
}
async function withSession(fn, clientExtra = {}) {
  const client = await makeClient(clientExtra);
  await connectClient(client);
  let session;
  try {
    session = await openSession(client);
    return await fn(session, client);
  } finally {
    if (session) await quietly(session.close(false));
    await quietly(client.disconnect());
  }
}
function check(sc, stage, what, extra) {
  if (isBad(sc)) throw new UaFailure(statusName(sc), `${what}: ${statusName(sc)}`, stage, extra);
}
async function service(stage, p) {
  try {
    return await p;
  } catch (e) {
    if (e instanceof UsageExit) throw e;
    throw new UaFailure(statusOfError(e), `${e?.message ?? e}`, stage);
  }
}
function base() {
  return { ok: true, command, url: opt.url, policy: opt.policy, mode: opt.mode };
}

// ---------------------------------------------------------------- commands
async function cmdEndpoints() {
  const client = await makeClient();
  await connectClient(client);
  try {
    const eps = await service("getEndpoints", client.getEndpoints());
    return {
      ...base(),
      count: eps.length,
      endpoints: eps.map((e) => ({
        url: e.endpointUrl,
        policy: e.securityPolicyUri,
        policyName: policyShort(e.securityPolicyUri),
        mode: modeName(e.securityMode),
        securityLevel: e.securityLevel,
        transportProfileUri: e.transportProfileUri,
        serverCertificate: sha1Thumbprint(e.serverCertificate),
        applicationUri: e.server?.applicationUri ?? null,
        userTokens: (e.userIdentityTokens ?? []).map((t) => ({
          policyId: t.policyId,
          type: tokenTypeName(t.tokenType),
          securityPolicyUri: t.securityPolicyUri ?? null,
        })),
      })),
    };
  } finally {
    await quietly(client.disconnect());
  }
}

async function cmdFindServers() {
  const client = await makeClient();
  await connectClient(client);
  try {
    const servers = await service("findServers", client.findServers());
    return {
      ...base(),
      count: servers.length,
      servers: servers.map((s) => ({
        applicationUri: s.applicationUri,
        productUri: s.productUri,
        applicationName: s.applicationName?.text ?? null,
        applicationType: ua.ApplicationType?.[s.applicationType] ?? s.applicationType,
        discoveryUrls: s.discoveryUrls ?? [],
      })),
    };
  } finally {
    await quietly(client.disconnect());
  }
}

async function cmdConnect() {
  return withSession(async (session, client) => ({
    ...base(),
    identity: identityName(),
    sessionId: nodeIdString(session.sessionId),
    authenticationToken: session.authenticationToken ? "present" : null,
    name: session.name ?? null,
    revisedSessionTimeout: session.timeout ?? null,
    serverNonceLength: session.serverNonce ? session.serverNonce.length : 0,
    serverCertificate: sha1Thumbprint(session.serverCertificate ?? client.serverCertificate),
    endpoint: client.endpoint
      ? {
          url: client.endpoint.endpointUrl,
          policy: policyShort(client.endpoint.securityPolicyUri),
          mode: modeName(client.endpoint.securityMode),
        }
      : null,
    applicationUri: applicationUri(),
  }));
}

const SERVER_STATES = ["Running", "Failed", "NoConfiguration", "Suspended", "Shutdown", "Test", "CommunicationFault", "Unknown"];
async function cmdReadStatus() {
  return withSession(async (session) => {
    const A = ua.AttributeIds.Value;
    const first = await service("read", session.read([
      { nodeId: "i=2256", attributeId: A },
      { nodeId: "i=2258", attributeId: A },
      { nodeId: "i=2255", attributeId: A },
    ]));
    check(first[0].statusCode, "read", "ServerStatus");
    check(first[1].statusCode, "read", "CurrentTime");
    check(first[2].statusCode, "read", "NamespaceArray");
    await sleep(1100);
    const second = await service("read", session.read({ nodeId: "i=2258", attributeId: A }));
    check(second.statusCode, "read", "CurrentTime (second read)");
    const st = first[0].value.value ?? {};
    const t1 = first[1].value.value;
    const t2 = second.value.value;
    const deltaMs = t1 instanceof Date && t2 instanceof Date ? t2.getTime() - t1.getTime() : null;
    return {
      ...base(),
      serverStatus: {
        type: ua.DataType[first[0].value.dataType],
        state: SERVER_STATES[st.state] ?? st.state ?? null,
        startTime: jsonable(st.startTime),
        currentTime: jsonable(st.currentTime),
        secondsTillShutdown: st.secondsTillShutdown ?? null,
        buildInfo: st.buildInfo
          ? {
              productUri: st.buildInfo.productUri ?? null,
              manufacturerName: st.buildInfo.manufacturerName ?? null,
              productName: st.buildInfo.productName ?? null,
              softwareVersion: st.buildInfo.softwareVersion ?? null,
              buildNumber: st.buildInfo.buildNumber ?? null,
            }
          : null,
      },
      currentTime: [jsonable(t1), jsonable(t2)],
      currentTimeType: ua.DataType[first[1].value.dataType],
      deltaMs,
      ticks: deltaMs !== null && deltaMs > 0,
      namespaceArray: jsonable(first[2].value.value),
    };
  });
}

const HIERARCHICAL = "i=33";
async function browseAll(session, nodeId, stage) {
  const r = await service(stage, session.browse({
    nodeId,
    browseDirection: ua.BrowseDirection.Forward,
    referenceTypeId: HIERARCHICAL,
    includeSubtypes: true,
    nodeClassMask: 0,
    resultMask: 63,
  }));
  check(r.statusCode, stage, `browse ${nodeId}`);
  let refs = [...(r.references ?? [])];
  let cp = r.continuationPoint;
  let pages = 1;
  while (cp && cp.length > 0 && pages < 1000) {
    const n = await service(stage, session.browseNext(cp, false));
    check(n.statusCode, stage, `browseNext ${nodeId}`);
    refs = refs.concat(n.references ?? []);
    cp = n.continuationPoint;
    pages++;
  }
  return { refs, pages };
}
function refJson(r) {
  return {
    browseName: qualifiedName(r.browseName),
    displayName: r.displayName?.text ?? null,
    nodeId: nodeIdString(r.nodeId),
    nodeClass: ua.NodeClass[r.nodeClass] ?? r.nodeClass,
    referenceType: nodeIdString(r.referenceTypeId),
    typeDefinition: nodeIdString(r.typeDefinition),
  };
}
async function cmdBrowse() {
  return withSession(async (session) => {
    const trail = [{ nodeId: nodeIdString(ua.resolveNodeId("i=84")), browseName: "Root" }];
    let here = "i=84";
    for (const name of ["Objects", "Server"]) {
      const { refs } = await browseAll(session, here, `browse ${trail.at(-1).browseName}`);
      const hit = refs.find((r) => r.browseName?.name === name && (r.browseName.namespaceIndex ?? 0) === 0);
      if (!hit) {
        throw new UaFailure("BadNoMatch", `${name} not found under ${here}`, "browse", {
          path: trail, children: refs.map(refJson),
        });
      }
      here = nodeIdString(hit.nodeId);
      trail.push({ nodeId: here, browseName: name });
    }
    const full = await browseAll(session, here, "browse Server");
    const children = full.refs.map(refJson);

    // BrowseNext: the same browse one reference per page
    const maxRefs = Number(opt["max-refs"] ?? 1);
    session.requestedMaxReferencesPerNode = maxRefs;
    const paged = await browseAll(session, here, "browseNext");
    // and a continuation point given back unused (releaseContinuationPoints = true)
    const again = await service("browse", session.browse({
      nodeId: here, browseDirection: ua.BrowseDirection.Forward, referenceTypeId: HIERARCHICAL, includeSubtypes: true,
      nodeClassMask: 0, resultMask: 63,
    }));
    let released = null;
    if (again.continuationPoint && again.continuationPoint.length) {
      const rel = await service("browseNext release", session.browseNext(again.continuationPoint, true));
      released = statusName(rel.statusCode);
    }
    session.requestedMaxReferencesPerNode = 0;
    const pagedNames = paged.refs.map((r) => qualifiedName(r.browseName));
    const fullNames = children.map((c) => c.browseName);
    return {
      ...base(),
      path: trail,
      reachedServer: ua.sameNodeId(ua.resolveNodeId(trail.at(-1).nodeId), ua.resolveNodeId("i=2253")),
      serverChildren: children,
      browseNext: {
        maxReferencesPerNode: maxRefs,
        pages: paged.pages,
        references: paged.refs.length,
        matchesFullBrowse: JSON.stringify([...pagedNames].sort()) === JSON.stringify([...fullNames].sort()),
        releaseStatus: released,
      },
    };
  });
}

async function cmdTranslate() {
  const pathText = opt.path ?? "/Objects/Server/ServerStatus";
  const start = opt.start ?? "i=84";
  const startNode = nodeIdArg(start, "--start");
  return withSession(async (session) => {
    const browsePath = ua.makeBrowsePath(startNode, pathText);
    const r = await service("translate", session.translateBrowsePath(browsePath));
    const targets = (r.targets ?? []).map((t) => ({
      targetId: nodeIdString(t.targetId),
      remainingPathIndex: t.remainingPathIndex,
    }));
    check(r.statusCode, "translate", `translate ${pathText}`, { path: pathText, start, targets });
    return { ...base(), path: pathText, start, status: statusName(r.statusCode), targets };
  });
}

async function cmdCall() {
  const objectId = nodeIdArg(opt.object ?? "i=2253", "--object");
  const methodId = nodeIdArg(opt.method ?? "i=11492", "--method");
  const args = opt.args ?? (opt.method === undefined ? [{ type: "UInt32", value: 1 }] : []);
  return withSession(async (session) => {
    // builtin DataTypes of the method's InputArguments, to type plain JSON values
    let hints = [];
    if (args.some((a) => !(a && typeof a === "object" && !Array.isArray(a) && "type" in a))) {
      try {
        const def = await session.getArgumentDefinition(methodId);
        hints = (def.inputArguments ?? []).map((a) => builtinOf(a.dataType));
      } catch {
        hints = [];
      }
    }
    const inputArguments = args.map((a, i) => toVariant(a, hints[i]));
    const r = await service("call", session.call({ objectId, methodId, inputArguments }));
    const out = {
      ...base(),
      object: nodeIdString(objectId),
      method: nodeIdString(methodId),
      inputArguments: inputArguments.map(variantJson),
      status: statusName(r.statusCode),
      inputArgumentResults: (r.inputArgumentResults ?? []).map(statusName),
      outputArguments: (r.outputArguments ?? []).map(variantJson),
    };
    if (isBad(r.statusCode)) {
      const { ok, command: c, url, policy, mode, ...rest } = out;
      throw new UaFailure(out.status, `call returned ${out.status}`, "call", rest);
    }
    return out;
  });
}

async function cmdRead() {
  const nodeId = nodeIdArg(opt.node, "--node");
  const attrName = opt.attribute ?? "Value";
  const attributeId = ua.AttributeIds[attrName];
  if (attributeId === undefined) usage(`unknown --attribute ${attrName}`);
  return withSession(async (session) => {
    const dv = await service("read", session.read({ nodeId, attributeId }));
    const res = { node: nodeIdString(nodeId), attribute: attrName, ...dataValueJson(dv) };
    if (attrName === "NodeClass" && typeof dv.value?.value === "number") res.nodeClass = ua.NodeClass[dv.value.value];
    check(dv.statusCode, "read", `read ${opt.node} ${attrName}`, res);
    return { ...base(), ...res };
  });
}

async function cmdWrite() {
  const nodeId = nodeIdArg(opt.node, "--node");
  return withSession(async (session) => {
    let hint;
    const typed = opt.value && typeof opt.value === "object" && !Array.isArray(opt.value) && "type" in opt.value;
    if (!typed) {
      const dt = await service("read DataType", session.read({ nodeId, attributeId: ua.AttributeIds.DataType }));
      if (isGood(dt.statusCode)) hint = builtinOf(dt.value.value);
    }
    const variant = toVariant(opt.value, hint);
    const sc = await service("write", session.write({ nodeId, attributeId: ua.AttributeIds.Value, value: { value: variant } }));
    const res = { node: nodeIdString(nodeId), written: variantJson(variant), status: statusName(sc) };
    check(sc, "write", `write ${opt.node}`, res);
    const back = await service("read back", session.read({ nodeId, attributeId: ua.AttributeIds.Value }));
    return { ...base(), ...res, readBack: dataValueJson(back) };
  });
}

async function cmdRegister() {
  const ids = (opt.node ?? "i=2256,i=2258").split(",").map((s) => nodeIdArg(s.trim(), "--node"));
  return withSession(async (session) => {
    const registered = await service("registerNodes", session.registerNodes(ids));
    if (!Array.isArray(registered) || registered.length !== ids.length) {
      throw new UaFailure("BadUnexpectedError", `RegisterNodes gave ${registered?.length} ids for ${ids.length}`, "registerNodes");
    }
    const reads = await service("read registered", session.read(registered.map((nodeId) => ({ nodeId, attributeId: ua.AttributeIds.Value }))));
    await service("unregisterNodes", session.unregisterNodes(registered));
    return {
      ...base(),
      nodes: ids.map(nodeIdString),
      registered: registered.map(nodeIdString),
      reads: reads.map((d) => ({ status: statusName(d.statusCode), type: ua.DataType[d.value?.dataType] ?? null })),
      unregistered: true,
    };
  });
}

const MAX_IDLE_MS = 180000;
async function cmdSessionTimeout() {
  const requested = Number(opt["session-timeout"] ?? 2000);
  const client = await makeClient({ requestedSessionTimeout: requested, keepSessionAlive: false });
  await connectClient(client);
  let session;
  try {
    session = await openSession(client);
    const revised = session.timeout ?? requested;
    const before = await service("read before idle", session.read({ nodeId: "i=2258", attributeId: ua.AttributeIds.Value }));
    check(before.statusCode, "read before idle", "CurrentTime");
    const idleMs = Number(opt.idle ?? Math.ceil(revised * 1.5 + 1000));
    const facts = { requestedSessionTimeout: requested, revisedSessionTimeout: revised, idleMs };
    if (idleMs > MAX_IDLE_MS) {
      throw new UaFailure("BadTimeout", `the server revised the session timeout to ${revised} ms: idling ${idleMs} ms is past this tool's limit of ${MAX_IDLE_MS} ms`,
        "idle", facts);
    }
    await sleep(idleMs);
    let readStatus;
    let message = null;
    try {
      const dv = await session.read({ nodeId: "i=2258", attributeId: ua.AttributeIds.Value });
      readStatus = statusName(dv.statusCode);
    } catch (e) {
      readStatus = statusOfError(e);
      message = `${e?.message ?? e}`.split("\n")[0];
    }
    const expired = /^Bad(SessionIdInvalid|SessionClosed|SessionNotActivated)$/.test(readStatus);
    if (!expired) {
      throw new UaFailure(isBad({ value: statusCodeValue(readStatus) ?? 0 }) ? readStatus : "BadUnexpectedError",
        `the Read after ${idleMs} ms idle answered ${readStatus}; the session should have expired`, "read after idle",
        { ...facts, readStatus, expired: false });
    }
    return { ...base(), ...facts, readStatus, expired, message };
  } finally {
    if (session) await quietly(session.close(false));
    await quietly(client.disconnect());
  }
}

async function cmdConcurrent() {
  const n = opt.clients;
  await getCertificateManager(); // one PKI for every client, initialised once
  const t0 = Date.now();
  const one = async (i) => {
    const s = Date.now();
    try {
      const value = await withSession(async (session) => {
        const dv = await service("read", session.read({ nodeId: "i=2258", attributeId: ua.AttributeIds.Value }));
        check(dv.statusCode, "read", "CurrentTime");
        return dv.value.value;
      });
      return { i, ok: true, ms: Date.now() - s, value };
    } catch (e) {
      if (e instanceof UsageExit) throw e;
      return { i, ok: false, ms: Date.now() - s, status: statusOfError(e), stage: e.stage ?? null, message: `${e?.message ?? e}`.split("\n")[0] };
    }
  };
  const results = await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const statuses = {};
  for (const r of results) statuses[r.ok ? "Good" : r.status] = (statuses[r.ok ? "Good" : r.status] ?? 0) + 1;
  const succeeded = results.filter((r) => r.ok).length;
  const out = {
    ...base(),
    clients: n,
    succeeded,
    failed: n - succeeded,
    statuses,
    elapsedMs: Date.now() - t0,
    perClientMs: { min: ms[0], median: ms[Math.floor(ms.length / 2)], max: ms.at(-1) },
    failures: results.filter((r) => !r.ok).slice(0, 10),
  };
  if (out.failed > 0) {
    const worst = Object.keys(statuses).find((k) => k !== "Good");
    const { ok, command: c, ...rest } = out;
    throw new UaFailure(worst, `${out.failed} of ${n} clients failed`, "concurrent", rest);
  }
  return out;
}

// ---------------------------------------------------------------- main
const TABLE = {
  endpoints: cmdEndpoints,
  findservers: cmdFindServers,
  connect: cmdConnect,
  "read-status": cmdReadStatus,
  browse: cmdBrowse,
  translate: cmdTranslate,
  call: cmdCall,
  read: cmdRead,
  write: cmdWrite,
  register: cmdRegister,
  "session-timeout": cmdSessionTimeout,
  concurrent: cmdConcurrent,
};

// One command line, start to end: {out, code} and never an exception. Its own watchdog
// makes sure no run hangs.
async function runOne(argv) {
  try {
    parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageExit) return usageResult(e);
    throw e;
  }
  let budget = opt.timeout * 2 + 5000;
  if (command === "session-timeout") budget += MAX_IDLE_MS + 10000;
  if (command === "concurrent") budget += opt.timeout * 2;
  if (!ua) ua = await import("node-opcua");
  let timer;
  const watchdog = new Promise((resolve) => {
    timer = setTimeout(() => resolve({
      out: { ok: false, command, status: "BadTimeout", code: 0x800a0000, stage: "watchdog", message: `no answer within ${budget} ms` },
      code: 1,
    }), budget);
  });
  const work = (async () => {
    try {
      return { out: await TABLE[command](), code: 0 };
    } catch (e) {
      if (e instanceof UsageExit) return usageResult(e);
      return { out: failure(e, "run"), code: 1 };
    }
  })();
  try {
    return await Promise.race([work, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}
function usageResult(e) {
  const why = e.message;
  process.stderr.write(why === "help" ? `${HELP}\n` : `client.mjs: ${why}\n${HELP}\n`);
  return { out: { ok: false, command, status: "usage", message: why }, code: 2 };
}

// node client.mjs batch [--file F]: one JSON array of arguments a line (from F or stdin), run
// one after the other in this process (node-opcua loads once); one JSON line out for each,
// with "exit" holding the code the single command would have exited with. Exit 0.
async function runBatch(argv) {
  let text;
  if (argv.length === 2 && argv[0] === "--file") text = readFileSync(argv[1], "utf8");
  else if (argv.length === 0) text = readFileSync(0, "utf8");
  else {
    emit({ ok: false, command: "batch", status: "usage", message: "batch [--file F]" }, 2);
    return;
  }
  let n = 0;
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    n++;
    let args;
    try {
      args = JSON.parse(line);
      if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) throw new Error("not an array of strings");
    } catch (e) {
      stdoutWrite(JSON.stringify({ ok: false, status: "usage", message: `batch line ${n}: ${e.message}`, exit: 2, line: n }) + "\n");
      continue;
    }
    const { out, code } = await runOne(args);
    stdoutWrite(JSON.stringify({ ...out, exit: code, line: n }) + "\n");
  }
  stdoutWrite("", () => process.exit(0));
}

process.on("unhandledRejection", (e) => {
  process.stderr.write(`client.mjs: unhandled ${e?.stack ?? e}\n`);
});
const argv = process.argv.slice(2);
if (argv[0] === "batch") {
  await runBatch(argv.slice(1));
} else {
  const { out, code } = await runOne(argv);
  emit(out, code);
}
