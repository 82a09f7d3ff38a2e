// node-opcua as the client of castellan's AuthorizationService (OPC UA Part 12 §9) in the
// interop tests. One JSON line per run: {"ok":true,...} or {"ok":false,"status":"Bad…",...}.
//
//   node authz_peer.mjs COMMAND --url URL --pki DIR [--mode SignAndEncrypt|Sign] [--policy Basic256Sha256]
//        [--cert C --key K] [--user U --password P] (the session's identity)
//   COMMAND:
//     describe                      browse Objects/AuthorizationServices, GetServiceDescription
//     request  --resource R [--as-user U --as-password P]   RequestAccessToken (implicit without --as-user);
//              the token is verified here with node's crypto and the ServiceCertificate
//     finish   --resource R [--roles A,B] [--reuse 1]      Start/FinishRequestToken with a UserName identity
//              (--as-user/--as-password), an identity provider's JWT (--as-jwt) or implicit;
//              --reuse 1 calls Finish a second time
//     x509     --resource R --user-cert C --user-key K [--forge 1] [--nonce-bytes N]
//     refresh  --resource R --refresh-token T
//     activate --token JWT          ActivateSession with an IssuedIdentityToken, then GetRejectedList
import { readFileSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import crypto from "node:crypto";
import {
  OPCUAClient, MessageSecurityMode, SecurityPolicy, UserTokenType, DataType, AttributeIds, BrowseDirection,
  UserNameIdentityToken, X509IdentityToken, IssuedIdentityToken, SignatureData,
} from "node-opcua-client";
import { OPCUACertificateManager } from "node-opcua-certificate-manager";

const argv = process.argv.slice(2);
const command = argv.shift();
const opt = {};
for (let i = 0; i < argv.length; i += 2) opt[argv[i].replace(/^--/, "")] = argv[i + 1];
const out = (r, code = 0) => { console.log(JSON.stringify(r)); process.exit(code); };
const statusName = (e) => (String(e?.message ?? e).match(/\b(Bad[A-Za-z]+)\b/) ?? [null, "BadCommunicationError"])[1];
const pemToDer = (pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");

async function connect(userIdentity) {
  mkdirSync(opt.pki, { recursive: true });
  const certificateManager = new OPCUACertificateManager({ rootFolder: opt.pki, automaticallyAcceptUnknownCertificate: true });
  await certificateManager.initialize();
  const options = {
    applicationName: "castellan-authz-interop",
    applicationUri: opt["app-uri"] ?? `urn:${hostname()}:castellan-authz-interop`,
    endpointMustExist: false,
    securityMode: MessageSecurityMode[opt.mode ?? "SignAndEncrypt"],
    securityPolicy: SecurityPolicy[opt.policy ?? "Basic256Sha256"],
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    clientCertificateManager: certificateManager,
  };
  if (opt.cert) { options.certificateFile = opt.cert; options.privateKeyFile = opt.key; }
  const client = OPCUAClient.create(options);
  if (userIdentity?.jwt) {
    // node-opcua's client makes no IssuedIdentityToken itself: build it here, as a client that
    // holds an AccessToken would (sent as is: the channel is SignAndEncrypt).
    const jwt = userIdentity.jwt;
    const policyId = userIdentity.policyId;
    client.createUserIdentityToken = (_context, _info, callback) => callback(null, {
      userIdentityToken: new IssuedIdentityToken({ policyId, tokenData: Buffer.from(jwt), encryptionAlgorithm: null }),
      userTokenSignature: {},
    });
  }
  await client.connect(opt.url);
  const session = await client.createSession(userIdentity?.jwt ? { type: UserTokenType.Anonymous } :
    opt.user ? { type: UserTokenType.UserName, userName: opt.user, password: opt.password } : { type: UserTokenType.Anonymous });
  return { client, session };
}

async function ids(session) {
  const ns = (await session.read({ nodeId: "i=2255", attributeId: AttributeIds.Value })).value.value;
  const gds = ns.indexOf("http://opcfoundation.org/UA/GDS/");
  return { gds, object: `ns=1;s=authz/${opt.service ?? "default"}`, method: (i) => `ns=${gds};i=${i}` };
}

async function call(session, objectId, methodId, inputArguments) {
  const r = await session.call({ objectId, methodId, inputArguments });
  return { status: r.statusCode.name, outputs: (r.outputArguments ?? []).map((v) => v.value) };
}

function verifyJwt(token, certificateDer) {
  const [h, p, s] = token.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  const key = crypto.createPublicKey({ key: new crypto.X509Certificate(certificateDer).publicKey.export({ type: "spki", format: "pem" }) });
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, "base64url");
  let verified = false;
  if (header.alg === "ES256") verified = crypto.verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, sig);
  else if (header.alg === "RS256") verified = crypto.verify("sha256", data, key, sig);
  else if (header.alg === "PS256") verified = crypto.verify("sha256", data, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  return { verified, header, claims: JSON.parse(Buffer.from(p, "base64url").toString()) };
}

// The explicit identity of request/finish: a UserName, an identity provider's JWT (the chained
// use case), or none (implicit use).
function explicitIdentity() {
  if (opt["as-jwt"]) return extension(new IssuedIdentityToken({ policyId: "jwt", tokenData: Buffer.from(opt["as-jwt"]), encryptionAlgorithm: null }));
  if (opt["as-user"]) return extension(userNameToken());
  return { dataType: DataType.Null };
}
const explicitPolicy = () => (opt["as-jwt"] ? "jwt" : opt["as-user"] ? "username" : "anonymous");
function userNameToken() {
  return new UserNameIdentityToken({ policyId: "username", userName: opt["as-user"], password: Buffer.from(opt["as-password"] ?? ""), encryptionAlgorithm: null });
}
const extension = (value) => ({ dataType: DataType.ExtensionObject, value });
const text = (value) => ({ dataType: DataType.String, value });

async function main() {
  const jwtIdentity = command === "activate" ? { jwt: opt.token, policyId: opt["policy-id"] ?? "jwt:default" } : null;
  let conn;
  try {
    conn = await connect(jwtIdentity);
  } catch (e) {
    out({ ok: false, status: statusName(e), message: String(e?.message ?? e).slice(0, 300) }, 1);
  }
  const { client, session } = conn;
  const close = async () => { await session.close().catch(() => {}); await client.disconnect().catch(() => {}); };
  try {
    const id = await ids(session);
    const resource = opt.resource ?? "";
    let result;
    if (command === "describe") {
      const browse = await session.browse({ nodeId: `ns=${id.gds};i=959`, browseDirection: BrowseDirection.Forward, resultMask: 63 });
      const services = browse.references.map((r) => r.browseName.name);
      const d = await call(session, id.object, id.method(1004), []);
      const roles = (await session.read({ nodeId: `${id.object}/SupportedRoles`, attributeId: AttributeIds.Value })).value.value;
      result = { ok: d.status === "Good", status: d.status, services, service_uri: d.outputs[0],
                 certificate: d.outputs[1] ? Buffer.from(d.outputs[1]).toString("base64") : null,
                 policies: (d.outputs[2] ?? []).map((p) => ({ id: p.policyId, type: UserTokenType[p.tokenType] })),
                 supported_roles: roles };
    } else if (command === "request") {
      const r = await call(session, id.object, id.method(969), [explicitIdentity(), text(resource)]);
      result = { ok: r.status === "Good", status: r.status, token: r.outputs[0] ?? null };
      if (result.ok) {
        const d = await call(session, id.object, id.method(1004), []);
        Object.assign(result, verifyJwt(r.outputs[0], Buffer.from(d.outputs[1])));
      }
    } else if (command === "finish") {
      const start = await call(session, id.object, id.method(95), [text(resource), text(explicitPolicy()),
        { dataType: DataType.ByteString, value: null }]);
      if (start.status !== "Good") out({ ok: false, status: start.status, step: "start" }, 1);
      const requestId = start.outputs[1];
      const identity = explicitIdentity();
      const roles = opt.roles ? opt.roles.split(",") : [];
      const finishArgs = [{ dataType: DataType.Guid, value: requestId }, { dataType: DataType.String, arrayType: 1, value: roles },
        identity, extension(new SignatureData({}))];
      const f = await call(session, id.object, id.method(98), finishArgs);
      result = { ok: f.status === "Good", status: f.status, token: f.outputs[0] ?? null, refresh_token: f.outputs[2] ?? null };
      if (opt.reuse) {
        const again = await call(session, id.object, id.method(98), finishArgs);
        result.reuse_status = again.status;
      }
      if (result.ok) {
        const d = await call(session, id.object, id.method(1004), []);
        Object.assign(result, verifyJwt(f.outputs[0], Buffer.from(d.outputs[1])));
      }
    } else if (command === "x509") {
      const nonce = crypto.randomBytes(Number(opt["nonce-bytes"] ?? 32));
      const start = await call(session, id.object, id.method(95), [text(resource), text("x509"), { dataType: DataType.ByteString, value: nonce }]);
      if (start.status !== "Good") out({ ok: false, status: start.status, step: "start" }, 1);
      const serviceData = Buffer.from(start.outputs[0]);
      const serverCertificate = client.endpoint?.serverCertificate ?? (await client.getEndpoints())[0].serverCertificate;
      const userCert = pemToDer(readFileSync(opt["user-cert"], "utf8"));
      let signature = crypto.sign("sha256", Buffer.concat([Buffer.from(serverCertificate), serviceData]), readFileSync(opt["user-key"], "utf8"));
      if (opt.forge) signature = crypto.randomBytes(signature.length);
      const f = await call(session, id.object, id.method(98), [{ dataType: DataType.Guid, value: start.outputs[1] },
        { dataType: DataType.String, arrayType: 1, value: [] },
        extension(new X509IdentityToken({ policyId: "x509", certificateData: userCert })),
        extension(new SignatureData({ algorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", signature }))]);
      result = { ok: f.status === "Good", status: f.status, token: f.outputs[0] ?? null };
      if (result.ok) {
        const d = await call(session, id.object, id.method(1004), []);
        Object.assign(result, verifyJwt(f.outputs[0], Buffer.from(d.outputs[1])));
      }
    } else if (command === "refresh") {
      const r = await call(session, id.object, id.method(64), [text(resource), text(opt["refresh-token"])]);
      result = { ok: r.status === "Good", status: r.status, token: r.outputs[0] ?? null, refresh_token: r.outputs[2] ?? null };
    } else if (command === "activate") {
      // Connected with the token: what may this session do? GetRejectedList needs SecurityAdmin.
      const r = await call(session, "i=12637", "i=12777", []);
      result = { ok: true, status: "Good", get_rejected_list: r.status };
    } else {
      out({ ok: false, status: "usage", message: `unknown command ${command}` }, 2);
    }
    await close();
    out(result, result.ok ? 0 : 1);
  } catch (e) {
    await close();
    out({ ok: false, status: statusName(e), message: String(e?.message ?? e).slice(0, 300) }, 1);
  }
}
main();
