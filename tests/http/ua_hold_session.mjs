// Opens one OPC UA session on castellan with node-opcua (from tests/ua/interop's lock file) and
// holds it: prints {"ok":true,"session":"ns=1;g=…"} once the session is active, then reads the
// server's clock every 200 ms until the server ends the session or its channel, and prints
// {"closed":true,"status":"Bad…","after_ms":N}. Exits after --hold-ms (default 60 s) otherwise.
//   node ua_hold_session.mjs --url URL --pki DIR [--user NAME --password P] [--policy P --mode M]
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";

const require = createRequire(new URL("../ua/interop/package.json", import.meta.url));
const { OPCUAClient, MessageSecurityMode, SecurityPolicy, AttributeIds, UserTokenType } = require("node-opcua-client");
const { OPCUACertificateManager } = require("node-opcua-certificate-manager");

const opt = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, "")] = argv[i + 1];
const print = (o) => console.log(JSON.stringify(o));
const statusName = (e) => (String(e?.message ?? e).match(/\b(Bad[A-Za-z]+)\b/) ?? [null, "BadCommunicationError"])[1];

const pki = opt.pki ?? "./pki-client";
mkdirSync(pki, { recursive: true });
const certificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
await certificateManager.initialize();
const client = OPCUAClient.create({
  applicationName: "castellan-interop",
  applicationUri: `urn:${hostname()}:castellan-interop`,
  endpointMustExist: false,
  securityMode: MessageSecurityMode[opt.mode ?? "SignAndEncrypt"],
  securityPolicy: SecurityPolicy[opt.policy ?? "Basic256Sha256"],
  connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },  // closed means closed: no reconnect
  requestedSessionTimeout: 60000,
  clientCertificateManager: certificateManager,
  keepSessionAlive: false,
});
let session;
try {
  await client.connect(opt.url);
  session = await client.createSession(opt.user ? { type: UserTokenType.UserName, userName: opt.user, password: opt.password }
                                                : { type: UserTokenType.Anonymous });
} catch (e) {
  print({ ok: false, status: statusName(e), message: String(e?.message ?? e).slice(0, 300) });
  process.exit(1);
}
print({ ok: true, session: session.sessionId.toString() });
const start = Date.now();
const deadline = start + Number(opt["hold-ms"] ?? 60000);
let ended = null;
client.on("close", () => { ended ??= "BadConnectionClosed"; });
while (Date.now() < deadline && !ended) {
  try {
    const dv = await session.read({ nodeId: "i=2258", attributeId: AttributeIds.Value });
    if (dv.statusCode.isNotGood()) ended = dv.statusCode.name;
  } catch (e) {
    ended = statusName(e);
  }
  await new Promise((r) => setTimeout(r, 200));
}
if (ended) print({ closed: true, status: ended, after_ms: Date.now() - start });
else print({ closed: false });
await client.disconnect().catch(() => {});
process.exit(0);
