// node-opcua's client on the receiving end of reverse connect (OPC UA Part 6 §7.1.3): it listens,
// castellan dials in with a ReverseHello, and the client opens its secure channel and session on
// that socket. Prints one JSON line: {"ok":true,...} (exit 0) or {"ok":false,"status":…} (exit 1).
//
//   node ua_reverse_peer.mjs read-status --port PORT --server-cert DER --pki DIR [--policy P --mode M] [--timeout MS]
//     listens on PORT, waits for castellan, reads Server.ServerStatus (State, CurrentTime) and
//     reports the ServerUri and EndpointUrl the ReverseHello carried.
//   node ua_reverse_peer.mjs hostile --port PORT --send HEX [--timeout MS]
//     a "client" that takes the ReverseHello, answers with raw bytes (HEX) instead of a Hello, and
//     reports what castellan sent back (an Error message is expected) and whether it closed.
import { createServer } from "node:net";
import { readFileSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { OPCUAClient, ClientReverseConnect, MessageSecurityMode, SecurityPolicy, AttributeIds } from "node-opcua-client";
import { OPCUACertificateManager } from "node-opcua-certificate-manager";

const argv = process.argv.slice(2);
const command = argv.shift();
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, "")] = argv[i + 1];
function out(result, code = 0) {
  console.log(JSON.stringify(result));
  process.exit(code);
}
function statusName(e) {
  const m = String(e?.message ?? e).match(/\b(Bad[A-Za-z]+)\b/);
  return m ? m[1] : "BadCommunicationError";
}
const timeout = Number(opt.timeout ?? 30000);
setTimeout(() => out({ ok: false, status: "BadTimeout", message: "castellan did not connect in time" }, 1), timeout).unref();

// The ReverseHello as the wire carries it: header (RHEF, size), ServerUri, EndpointUrl.
function decodeReverseHello(b) {
  const type = b.subarray(0, 4).toString("latin1");
  let at = 8;
  const str = () => {
    const n = b.readInt32LE(at);
    at += 4;
    const s = n < 0 ? null : b.subarray(at, at + n).toString("utf8");
    at += Math.max(n, 0);
    return s;
  };
  return { type, size: b.readUInt32LE(4), server_uri: str(), endpoint_url: str() };
}

async function readStatus() {
  const pki = opt.pki ?? "./pki-reverse-client";
  mkdirSync(pki, { recursive: true });
  const certificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
  await certificateManager.initialize();
  const listener = new ClientReverseConnect({ connectionUrl: `opc.tcp://127.0.0.1:${opt.port}` });
  await listener.start();
  console.error(`LISTENING ${listener.listeningPort}`);
  const client = OPCUAClient.create({
    applicationName: "castellan-reverse-interop",
    applicationUri: `urn:${hostname()}:castellan-reverse-interop`,
    securityMode: MessageSecurityMode[opt.mode ?? "SignAndEncrypt"],
    securityPolicy: SecurityPolicy[opt.policy ?? "Basic256Sha256"],
    serverCertificate: readFileSync(opt["server-cert"]),  // no dialling out to fetch it: that is the point
    clientCertificateManager: certificateManager,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
  });
  try {
    await client.connectReverse(listener);
    const session = await client.createSession();
    const state = await session.read({ nodeId: "i=2259", attributeId: AttributeIds.Value });
    const time = await session.read({ nodeId: "i=2258", attributeId: AttributeIds.Value });
    const uri = await session.read({ nodeId: "i=2255", attributeId: AttributeIds.Value });
    const result = {
      endpoint_url: client.endpointUrl,
      state: state.value.value,
      current_time: time.value.value.toISOString(),
      namespace0: uri.value.value?.[0],
    };
    await session.close();
    await client.disconnect();
    await listener.stop();
    return result;
  } catch (e) {
    await client.disconnect().catch(() => {});
    await listener.stop();
    throw e;
  }
}

function hostile() {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      let got = Buffer.alloc(0);
      let hello = null;
      let answered = false;
      socket.on("data", (chunk) => {
        got = Buffer.concat([got, chunk]);
        if (!hello && got.length >= 8 && got.length >= got.readUInt32LE(4)) {
          hello = decodeReverseHello(got.subarray(0, got.readUInt32LE(4)));
          got = got.subarray(hello.size);
          socket.write(Buffer.from(opt.send ?? "", "hex"));
          answered = true;
        }
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        server.close();
        const reply = got.subarray(0, 4).toString("latin1");
        const status = got.length >= 12 ? got.readUInt32LE(8) : null;
        resolve({ reverse_hello: hello, answered, reply_type: reply, reply_status: status, closed: true });
      });
    });
    server.listen(Number(opt.port), "127.0.0.1");
  });
}

try {
  if (command === "read-status") out({ ok: true, ...(await readStatus()) });
  else if (command === "hostile") out({ ok: true, ...(await hostile()) });
  else out({ ok: false, status: "usage", message: "read-status or hostile" }, 2);
} catch (e) {
  if (process.env.UA_PEER_DEBUG) console.error(e);
  out({ ok: false, status: statusName(e), message: String(e?.message ?? e).split("\n")[0] }, 1);
}
