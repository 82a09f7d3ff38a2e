// node-opcua as castellan's peer in the interop tests. Prints one JSON line per run:
//   {"ok":true,...} (exit 0) or {"ok":false,"status":"BadSomething","message":"…"} (exit 1).
//
//   node ua_peer.mjs client COMMAND --url opc.tcp://127.0.0.1:PORT [--policy P] [--mode M] [--pki DIR]
//        [--app-uri URI] [--cert C.pem --key K.pem] [--user NAME --password P] [--user-cert C --user-key K]
//        [--timeout MS] [--clients N]
//     COMMAND: endpoints | connect | read-status | browse | translate | call | write | session-timeout | concurrent
//              | subscribe-time | keepalive
//              | watch-events [--seconds S] [--until-file F] [--of-type NODEID] (prints "READY" once subscribed)
//   node ua_peer.mjs server --port PORT --pki DIR [--user NAME --password P]   (prints "READY PORT")
import { readFileSync, mkdirSync, existsSync } from "node:fs";
import { hostname } from "node:os";
import {
  OPCUAClient, MessageSecurityMode, SecurityPolicy, AttributeIds, UserTokenType, BrowseDirection, DataType,
  StatusCodes, makeBrowsePath, ClientMonitoredItem, TimestampsToReturn, constructEventFilter, ofType,
} from "node-opcua-client";
import { OPCUACertificateManager } from "node-opcua-certificate-manager";

const argv = process.argv.slice(2);
const role = argv.shift();
const command = role === "client" ? argv.shift() : undefined;
const opt = {};
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
  const text = String(e?.message ?? e);
  const m = text.match(/\b(Bad[A-Za-z]+)\b/);
  return m ? m[1] : "BadCommunicationError";
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function makeClient() {
  const pki = opt.pki ?? "./pki-client";
  mkdirSync(pki, { recursive: true });
  const certificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
  await certificateManager.initialize();
  const options = {
    applicationName: "castellan-interop",
    applicationUri: opt["app-uri"] ?? `urn:${hostname()}:castellan-interop`,
    endpointMustExist: false,
    securityMode: MessageSecurityMode[opt.mode ?? "None"],
    securityPolicy: SecurityPolicy[opt.policy ?? "None"],
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: Number(opt["session-timeout"] ?? 60000),
    clientCertificateManager: certificateManager,
    defaultSecureTokenLifetime: Number(opt["token-lifetime"] ?? 600000),
  };
  if (opt.cert) options.certificateFile = opt.cert;
  if (opt.key) options.privateKeyFile = opt.key;
  return OPCUAClient.create(options);
}

function identity() {
  if (opt.user) return { type: UserTokenType.UserName, userName: opt.user, password: opt.password ?? "" };
  if (opt["user-cert"]) {
    return { type: UserTokenType.Certificate, certificateData: pemToDer(readFileSync(opt["user-cert"], "utf8")),
             privateKey: readFileSync(opt["user-key"], "utf8") };
  }
  return { type: UserTokenType.Anonymous };
}
function pemToDer(pem) {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Buffer.from(b64, "base64");
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

const commands = {
  async endpoints() {
    const client = await makeClient();
    await client.connect(opt.url);
    const eps = await client.getEndpoints();
    await client.disconnect();
    return {
      endpoints: eps.map((e) => ({
        url: e.endpointUrl, policy: e.securityPolicyUri.split("#")[1], mode: MessageSecurityMode[e.securityMode],
        tokens: e.userIdentityTokens.map((t) => UserTokenType[t.tokenType]), level: e.securityLevel,
      })),
    };
  },
  async connect() {
    return withSession(async (session) => ({ session: session.sessionId.toString(), user: opt.user ?? "" }));
  },
  async "read-status"() {
    return withSession(async (session) => {
      const first = await session.read({ nodeId: "i=2258", attributeId: AttributeIds.Value });
      await sleep(1100);
      const second = await session.read({ nodeId: "i=2258", attributeId: AttributeIds.Value });
      const state = await session.read({ nodeId: "i=2259", attributeId: AttributeIds.Value });
      const ns = await session.read({ nodeId: "i=2255", attributeId: AttributeIds.Value });
      const status = await session.read({ nodeId: "i=2256", attributeId: AttributeIds.Value });
      return {
        current_time: [first.value.value.toISOString(), second.value.value.toISOString()],
        ticks_ms: second.value.value.getTime() - first.value.value.getTime(),
        state: state.value.value, namespaces: ns.value.value,
        server_status_type: status.value.value?.constructor?.name ?? null,
        status_code: status.statusCode.name,
      };
    });
  },
  async browse() {
    return withSession(async (session) => {
      const path = [];
      let node = "i=84";
      for (const name of ["Objects", "Server"]) {
        const r = await session.browse({ nodeId: node, browseDirection: BrowseDirection.Forward, includeSubtypes: true,
                                         referenceTypeId: "HierarchicalReferences", resultMask: 63 });
        const hit = r.references.find((x) => x.browseName.name === name);
        if (!hit) throw new Error(`BadNoMatch: ${name} not under ${node}`);
        path.push(name);
        node = hit.nodeId.toString();
      }
      const server = await session.browse({ nodeId: node, browseDirection: BrowseDirection.Forward, resultMask: 63 });
      // BrowseNext: one reference per call until the server runs out.
      let paged = [];
      let r = (await session.browse({ nodeId: node, browseDirection: BrowseDirection.Forward, resultMask: 63,
                                      maxReferencesPerNode: 1 }));
      // node-opcua follows continuation points itself when browsing with a limit; count what arrives.
      paged = r.references.map((x) => x.browseName.name);
      return { path, server_node: node, children: server.references.map((x) => x.browseName.name), paged_count: paged.length };
    });
  },
  async translate() {
    return withSession(async (session) => {
      const r = await session.translateBrowsePath(makeBrowsePath("RootFolder", "/Objects/Server.ServerStatus"));
      return { status: r.statusCode.name, targets: (r.targets ?? []).map((t) => t.targetId.toString()) };
    });
  },
  async call() {
    return withSession(async (session) => {
      const inputArguments = opt.arg === "none" ? [] : [{ dataType: DataType.UInt32, value: Number(opt.arg ?? 1) }];
      const r = await session.call({ objectId: opt.object ?? "i=2253", methodId: opt.method ?? "i=11492", inputArguments });
      const outputs = (r.outputArguments ?? []).map((v) => v.value);
      return { status: r.statusCode.name, output_lengths: outputs.map((v) => (Array.isArray(v) ? v.length : 1)) };
    });
  },
  async write() {
    return withSession(async (session) => {
      const s = await session.write({ nodeId: opt.node ?? "i=2258", attributeId: AttributeIds.Value,
                                      value: { value: { dataType: DataType.DateTime, value: new Date() } } });
      return { status: s.name };
    });
  },
  async "session-timeout"() {
    // A session with a short timeout, left idle past it, is gone: the next Read fails with
    // BadSessionIdInvalid, or node-opcua notices and recreates the session (a new id).
    const client = await makeClient();
    await client.connect(opt.url);
    const session = await client.createSession(identity());
    const timeout = session.timeout;
    const before = session.sessionId.toString();
    let closedByServer = "";
    session.on("session_closed", (status) => { closedByServer = status?.name ?? String(status); });
    await sleep(timeout + 2500);
    let status = "Good";
    try {
      const dv = await session.read({ nodeId: "i=2258", attributeId: AttributeIds.Value });
      status = dv.statusCode.name;
    } catch (e) {
      status = statusName(e);
    }
    const after = session.sessionId.toString();
    await client.disconnect();
    return { revised_timeout_ms: timeout, status_after_idle: status, recreated: before !== after,
             closed_by_server: closedByServer };
  },
  async concurrent() {
    const n = Number(opt.clients ?? 10);
    const results = await Promise.allSettled([...Array(n)].map(() => withSession(async (session) => {
      const dv = await session.read({ nodeId: "i=2258", attributeId: AttributeIds.Value });
      return dv.statusCode.name;
    })));
    const ok = results.filter((r) => r.status === "fulfilled" && r.value === "Good").length;
    const errors = results.filter((r) => r.status === "rejected").map((r) => statusName(r.reason));
    return { clients: n, good: ok, errors };
  },
  async "subscribe-time"() {
    // Server_ServerStatus_CurrentTime through a subscription; then GetMonitoredItems, then
    // DeleteSubscriptions and listen on: nothing more may arrive.
    return withSession(async (session) => {
      const subscription = await session.createSubscription2({
        requestedPublishingInterval: 100, requestedLifetimeCount: 600, requestedMaxKeepAliveCount: 10,
        maxNotificationsPerPublish: 100, publishingEnabled: true, priority: 1,
      });
      const item = ClientMonitoredItem.create(subscription, { nodeId: "i=2258", attributeId: AttributeIds.Value },
        { samplingInterval: 100, discardOldest: true, queueSize: 10 }, TimestampsToReturn.Both);
      const values = [];
      item.on("changed", (dv) => values.push(dv.value.value.getTime()));
      await sleep(Number(opt.seconds ?? 1.5) * 1000);
      const seen = values.slice();
      const r = await session.call({ objectId: "i=2253", methodId: "i=11492",
        inputArguments: [{ dataType: DataType.UInt32, value: subscription.subscriptionId }] });
      const serverHandles = Array.from(r.outputArguments?.[0]?.value ?? []);
      const clientHandles = Array.from(r.outputArguments?.[1]?.value ?? []);
      const subscriptionId = subscription.subscriptionId;
      await subscription.terminate();
      const before = values.length;
      await sleep(800);
      const after = await session.call({ objectId: "i=2253", methodId: "i=11492",
        inputArguments: [{ dataType: DataType.UInt32, value: subscriptionId }] });
      return {
        subscription_id: subscriptionId, revised_interval: subscription.publishingInterval, changes: seen.length,
        distinct: new Set(seen).size, increasing: seen.every((v, i) => i === 0 || v >= seen[i - 1]),
        get_monitored_items: r.statusCode.name, server_handles: serverHandles.length,
        client_handle_matches: clientHandles[0] === item.monitoringParameters.clientHandle,
        monitored_item_id: item.monitoredItemId, first_server_handle: serverHandles[0],
        after_delete: values.length - before, get_monitored_items_after_delete: after.statusCode.name,
      };
    });
  },
  async keepalive() {
    return withSession(async (session) => {
      const subscription = await session.createSubscription2({
        requestedPublishingInterval: 100, requestedLifetimeCount: 60, requestedMaxKeepAliveCount: 3,
        maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
      });
      let keepalives = 0;
      subscription.on("keepalive", () => keepalives++);
      await sleep(Number(opt.seconds ?? 2) * 1000);
      const revised = subscription.maxKeepAliveCount;
      await subscription.terminate();
      return { keepalives, revised_keep_alive_count: revised, revised_interval: subscription.publishingInterval };
    });
  },
  async "watch-events"() {
    // Events of the Server object for --seconds; prints READY when the item is in place.
    return withSession(async (session) => {
      const subscription = await session.createSubscription2({
        requestedPublishingInterval: 100, requestedLifetimeCount: 600, requestedMaxKeepAliveCount: 10,
        maxNotificationsPerPublish: 100, publishingEnabled: true, priority: 1,
      });
      const names = ["EventType", "SourceName", "Message", "Severity", "Time", "Status", "Certificate", "StatusCodeId",
                     "ClientUserId"];
      const where = opt["of-type"] ? ofType(opt["of-type"]) : undefined;
      const item = ClientMonitoredItem.create(subscription, { nodeId: "i=2253", attributeId: AttributeIds.EventNotifier },
        { samplingInterval: 0, discardOldest: true, queueSize: 100, filter: constructEventFilter(names, where) },
        TimestampsToReturn.Neither);
      const events = [];
      item.on("changed", (fields) => {
        const e = {};
        names.forEach((n, i) => {
          const v = fields[i]?.value;
          e[n] = v === null || v === undefined ? null
            : Buffer.isBuffer(v) ? v.length
            : v.toString?.() ?? v;
        });
        if (fields[2]?.value?.text !== undefined) e.Message = fields[2].value.text;
        events.push(e);
        console.log(`EVENT ${JSON.stringify(e)}`);  // as they come, for a test that waits for one
      });
      await new Promise((resolve) => {
        if (item.monitoredItemId) return resolve();
        item.on("initialized", resolve);
        item.on("err", resolve);
      });
      console.log("READY");
      // Until --until-file exists (the test says it is done), at most --seconds.
      const end = Date.now() + Number(opt.seconds ?? 5) * 1000;
      while (Date.now() < end && !(opt["until-file"] && existsSync(opt["until-file"]))) await sleep(100);
      await sleep(Number(opt.linger ?? 0.5) * 1000);
      await subscription.terminate();
      return { events, item_status: item.statusCode?.name ?? "Good" };
    });
  },
};

async function runServer() {
  const { OPCUAServer, OPCUACertificateManager: ServerCM, nodesets } = await import("node-opcua-server").then(async (m) => ({
    ...m, nodesets: (await import("node-opcua-server")).nodesets,
  }));
  const pki = opt.pki ?? "./pki-server";
  const serverCertificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
  await serverCertificateManager.initialize();
  const users = opt.user ? { [opt.user]: opt.password ?? "" } : {};
  const server = new OPCUAServer({
    port: Number(opt.port ?? 4840),
    serverCertificateManager,
    allowAnonymous: true,
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep,
                       SecurityPolicy.Aes256_Sha256_RsaPss],
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
    userManager: { isValidUser: (u, p) => users[u] !== undefined && users[u] === p },
    maxAllowedSessionNumber: 20000,
    maxConnectionsPerEndpoint: 20000,
  });
  await server.initialize();
  await server.start();
  console.log(`READY ${server.endpoints[0].port}`);
  const stop = async () => {
    await server.shutdown(100);
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (role === "server") {
  await runServer();
} else if (role === "client") {
  if (!commands[command]) usage(`unknown command ${command}`);
  if (!opt.url) usage("--url is required");
  const timer = setTimeout(() => out({ ok: false, status: "BadTimeout", message: "no answer in time" }, 1),
                           Number(opt.timeout ?? 30000));
  try {
    const result = await commands[command]();
    clearTimeout(timer);
    out({ ok: true, ...result });
  } catch (e) {
    clearTimeout(timer);
    if (process.env.UA_PEER_DEBUG) console.error(e);
    out({ ok: false, status: statusName(e), message: String(e?.message ?? e).split("\n")[0] }, 1);
  }
} else {
  usage("first argument: client or server");
}
