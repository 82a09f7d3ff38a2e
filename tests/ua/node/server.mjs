// node-opcua's real OPC UA server, for the interop direction "castellan's client against
// node-opcua" and as the comparison row of the benchmarks. Loopback only.
//
//   node server.mjs --port PORT [--pki DIR] [--user alice] [--password secret] [--host 127.0.0.1]
//        [--hostname NAME] [--policies None,Basic256Sha256,...] [--modes None,Sign,SignAndEncrypt]
//        [--no-anonymous] [--strict] [--max-sessions N] [--resource-path /UA/x]
//
// Prints `READY <port>` and one JSON line with the endpoint URL and server certificate thumbprint
// on stdout once it listens; stops cleanly on SIGTERM/SIGINT (prints `STOPPED`). Exit 2 on usage
// errors, 1 when it cannot start.
//
// Address space additions, in namespace urn:castellan:harness (ns=1):
//   Objects/Harness                      ns=1;s=Harness
//     Add(Int32 a, Int32 b) -> Int32 sum  ns=1;s=Harness.Add     method
//     Fail()                              ns=1;s=Harness.Fail    method, always BadInvalidState
//     Counter  Int32 read/write           ns=1;s=Harness.Counter
//     Message  String read/write          ns=1;s=Harness.Message
//     ReadOnly Double read only           ns=1;s=Harness.ReadOnly
//     Items/Item00..Item19 (Int32)        ns=1;s=Harness.Items / ns=1;s=Harness.Item00 ...
// --strict: unknown client / user certificates are rejected (not trusted automatically), so a
// client can be shown BadSecurityChecksFailed / BadIdentityTokenRejected.
import { mkdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import {
  OPCUAServer, OPCUACertificateManager, SecurityPolicy, MessageSecurityMode, DataType, Variant, StatusCodes,
  nodesets,
} from "node-opcua";

const VALUE_OPTS = new Set(["port", "pki", "user", "password", "host", "hostname", "policies", "modes", "max-sessions", "resource-path"]);
const FLAG_OPTS = new Set(["no-anonymous", "strict", "help"]);
const opt = {};
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) usage(`unexpected argument ${a}`);
    const k = a.slice(2);
    if (FLAG_OPTS.has(k)) opt[k] = true;
    else if (VALUE_OPTS.has(k)) {
      if (i + 1 >= argv.length) usage(`--${k} needs a value`);
      opt[k] = argv[++i];
    } else usage(`unknown option --${k}`);
  }
}
function usage(why) {
  process.stderr.write(`server.mjs: ${why}\nusage: node server.mjs --port PORT [--pki DIR] [--user alice] [--password P] [--policies LIST] [--modes LIST] [--no-anonymous] [--strict]\n`);
  console.log(JSON.stringify({ ok: false, status: "usage", message: why }));
  process.exit(2);
}
if (opt.help) usage("help");
if (!opt.port || !/^\d+$/.test(opt.port) || Number(opt.port) < 1 || Number(opt.port) > 65535) usage("--port PORT (1..65535) is required");

const port = Number(opt.port);
const pki = path.resolve(opt.pki ?? "./pki-server");
const userName = opt.user ?? "alice";
const password = opt.password ?? "alice-secret";
const ALL_POLICIES = ["None", "Basic128Rsa15", "Basic256", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"];
const policies = (opt.policies ?? "None,Basic256Sha256,Aes128_Sha256_RsaOaep,Aes256_Sha256_RsaPss").split(",").map((p) => {
  if (!ALL_POLICIES.includes(p)) usage(`unknown policy ${p}`);
  return SecurityPolicy[p];
});
const modes = (opt.modes ?? "None,Sign,SignAndEncrypt").split(",").map((m) => {
  if (!["None", "Sign", "SignAndEncrypt"].includes(m)) usage(`unknown mode ${m}`);
  return MessageSecurityMode[m];
});

async function main() {
  mkdirSync(pki, { recursive: true });
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: path.join(pki, "server"),
    automaticallyAcceptUnknownCertificate: !opt.strict,
  });
  const userCertificateManager = new OPCUACertificateManager({
    rootFolder: path.join(pki, "user"),
    automaticallyAcceptUnknownCertificate: !opt.strict,
  });
  await serverCertificateManager.initialize();
  await userCertificateManager.initialize();

  const server = new OPCUAServer({
    port,
    host: opt.host ?? "127.0.0.1",
    hostname: opt.hostname ?? "127.0.0.1",
    resourcePath: opt["resource-path"] ?? "",
    securityPolicies: policies,
    securityModes: modes,
    allowAnonymous: !opt["no-anonymous"],
    serverCertificateManager,
    userCertificateManager,
    serverCapabilities: { maxSessions: Number(opt["max-sessions"] ?? 200) },
    maxConnectionsPerEndpoint: Number(opt["max-sessions"] ?? 200),
    nodesets: [nodesets.standard],
    serverInfo: {
      applicationUri: "urn:castellan:harness:node-opcua-server",
      productUri: "urn:castellan:harness",
      applicationName: { text: "castellan harness (node-opcua)", locale: "en" },
    },
    buildInfo: { productName: "castellan-harness-node-opcua", manufacturerName: "castellan tests" },
    userManager: {
      isValidUser: (name, pw) => name === userName && pw === password,
    },
  });
  await server.initialize();
  buildAddressSpace(server);
  await server.start();

  const endpointUrl = server.getEndpointUrl();
  let thumbprint = null;
  try {
    const der = server.getCertificate();
    thumbprint = createHash("sha1").update(firstCert(der)).digest("hex").toUpperCase();
  } catch {
    thumbprint = null;
  }
  console.log(`READY ${port}`);
  console.log(JSON.stringify({
    ok: true, endpointUrl, port, pki, thumbprint, user: userName,
    certificateFile: path.join(pki, "server", "own", "certs", "certificate.pem"),
    policies: policies.map((p) => p.split("#")[1]), modes: modes.map((m) => MessageSecurityMode[m]),
  }));

  let stopping = false;
  const stop = async (sig) => {
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(() => process.exit(1), 5000);
    hard.unref();
    try {
      await server.shutdown(0);
    } catch (e) {
      process.stderr.write(`shutdown: ${e?.message ?? e}\n`);
    }
    console.log(`STOPPED ${sig}`);
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function firstCert(der) {
  // a chain is DER certificates back to back; the first one's length is in its SEQUENCE header
  const buf = Buffer.from(der);
  if (buf[0] !== 0x30) return buf;
  let len = buf[1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | buf[2 + i];
    hdr = 2 + n;
  }
  return buf.subarray(0, hdr + len);
}

function buildAddressSpace(server) {
  const addressSpace = server.engine.addressSpace;
  const ns = addressSpace.getOwnNamespace();
  const harness = ns.addObject({
    nodeId: "s=Harness",
    browseName: "Harness",
    organizedBy: addressSpace.rootFolder.objects,
  });

  const add = ns.addMethod(harness, {
    nodeId: "s=Harness.Add",
    browseName: "Add",
    inputArguments: [
      { name: "a", dataType: DataType.Int32, description: { text: "first addend" } },
      { name: "b", dataType: DataType.Int32, description: { text: "second addend" } },
    ],
    outputArguments: [{ name: "sum", dataType: DataType.Int32, description: { text: "a + b" } }],
  });
  add.bindMethod(async (inputArguments, _context) => {
    const a = inputArguments[0].value;
    const b = inputArguments[1].value;
    return { statusCode: StatusCodes.Good, outputArguments: [new Variant({ dataType: DataType.Int32, value: (a + b) | 0 })] };
  });

  const fail = ns.addMethod(harness, { nodeId: "s=Harness.Fail", browseName: "Fail", inputArguments: [], outputArguments: [] });
  fail.bindMethod(async (_inputArguments, _context) => ({ statusCode: StatusCodes.BadInvalidState }));

  let counter = 0;
  ns.addVariable({
    componentOf: harness,
    nodeId: "s=Harness.Counter",
    browseName: "Counter",
    dataType: "Int32",
    minimumSamplingInterval: 100,
    value: {
      get: () => new Variant({ dataType: DataType.Int32, value: counter }),
      set: (v) => {
        if (v.dataType !== DataType.Int32) return StatusCodes.BadTypeMismatch;
        counter = v.value;
        return StatusCodes.Good;
      },
    },
  });
  let message = "hello";
  ns.addVariable({
    componentOf: harness,
    nodeId: "s=Harness.Message",
    browseName: "Message",
    dataType: "String",
    minimumSamplingInterval: 100,
    value: {
      get: () => new Variant({ dataType: DataType.String, value: message }),
      set: (v) => {
        if (v.dataType !== DataType.String) return StatusCodes.BadTypeMismatch;
        message = v.value;
        return StatusCodes.Good;
      },
    },
  });
  ns.addVariable({
    componentOf: harness,
    nodeId: "s=Harness.ReadOnly",
    browseName: "ReadOnly",
    dataType: "Double",
    accessLevel: "CurrentRead",
    userAccessLevel: "CurrentRead",
    value: { dataType: DataType.Double, value: 3.25 },
  });
  const items = ns.addObject({ nodeId: "s=Harness.Items", browseName: "Items", componentOf: harness, typeDefinition: "FolderType" });
  for (let i = 0; i < 20; i++) {
    const n = String(i).padStart(2, "0");
    ns.addVariable({
      organizedBy: items,
      nodeId: `s=Harness.Item${n}`,
      browseName: `Item${n}`,
      dataType: "Int32",
      value: { dataType: DataType.Int32, value: i },
    });
  }
}

main().catch((e) => {
  process.stderr.write(`server.mjs: ${e?.stack ?? e}\n`);
  console.log(JSON.stringify({ ok: false, status: "BadInternalError", message: String(e?.message ?? e) }));
  process.exit(1);
});
