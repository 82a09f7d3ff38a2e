// node-opcua's SERVER on the dialling end of reverse connect (OPC UA Part 6 §7.1.3): castellan's
// client listens (`castellan ua read --reverse-listen`), the server dials it, sends a ReverseHello
// and serves the secure channel the client opens on that socket.
//
//   node ua_reverse_server_peer.mjs serve --connect opc.tcp://127.0.0.1:PORT --pki DIR --cert-out FILE
//     starts a node-opcua server (on an ephemeral port) that reverse-connects to the client, with a
//     variable ns=1;s=Castellan.Answer = 42 (Double); writes its certificate (DER) to FILE and prints
//     "READY <ApplicationUri>"; runs until SIGTERM.
//   node ua_reverse_server_peer.mjs hostile --connect opc.tcp://127.0.0.1:PORT --send HEX [--timeout MS]
//     a "server" that dials the client and sends raw bytes (HEX) instead of a good ReverseHello;
//     prints one JSON line: what the client answered (an Error is expected) and whether it closed.
import { connect } from "node:net";
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { OPCUAServer } from "node-opcua-server";
import { DataType, MessageSecurityMode, SecurityPolicy } from "node-opcua-client";
import { OPCUACertificateManager } from "node-opcua-certificate-manager";

const argv = process.argv.slice(2);
const command = argv.shift();
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, "")] = argv[i + 1];

async function serve() {
  const pki = opt.pki ?? "./pki-reverse-server";
  mkdirSync(pki, { recursive: true });
  const serverCertificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
  await serverCertificateManager.initialize();
  const server = new OPCUAServer({
    port: 0,
    serverCertificateManager,
    serverInfo: { applicationUri: `urn:${hostname()}:node-opcua-reverse-server` },
    allowAnonymous: true,
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt],
    reverseConnect: { connections: [{ endpointUrl: opt.connect }], reconnectDelay: 200, maxReconnectDelay: 1000 },
  });
  await server.initialize();
  const namespace = server.engine.addressSpace.getOwnNamespace();
  namespace.addVariable({
    organizedBy: server.engine.addressSpace.rootFolder.objects,
    browseName: "Answer",
    nodeId: "s=Castellan.Answer",
    dataType: "Double",
    value: { dataType: DataType.Double, value: 42 },
  });
  await server.start();
  if (opt["cert-out"]) writeFileSync(opt["cert-out"], server.getCertificate());
  console.log(`READY ${server.serverInfo.applicationUri}`);
  const stop = async () => {
    await server.shutdown(100);
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

function hostile() {
  const url = new URL(opt.connect.replace(/^opc\.tcp:/, "http:"));
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let got = Buffer.alloc(0);
    const finish = (closed) => {
      const reply = got.subarray(0, 4).toString("latin1");
      const status = got.length >= 12 ? got.readUInt32LE(8) : null;
      resolve({ ok: true, reply_type: reply, reply_status: status, closed });
    };
    setTimeout(() => { finish(false); socket.destroy(); }, Number(opt.timeout ?? 20000)).unref();
    socket.on("connect", () => socket.write(Buffer.from(opt.send ?? "", "hex")));
    socket.on("data", (chunk) => { got = Buffer.concat([got, chunk]); });
    socket.on("error", () => {});
    socket.on("close", () => finish(true));
  });
}

try {
  if (command === "serve") await serve();
  else if (command === "hostile") { console.log(JSON.stringify(await hostile())); process.exit(0); }
  else { console.log(JSON.stringify({ ok: false, status: "usage", message: "serve or hostile" })); process.exit(2); }
} catch (e) {
  if (process.env.UA_PEER_DEBUG) console.error(e);
  console.log(JSON.stringify({ ok: false, message: String(e?.message ?? e).split("\n")[0] }));
  process.exit(1);
}
