// Encodes a few OPC UA service messages with node-opcua's encoder (npm node-opcua-types, a
// pinned devDependency of tools/schema) and prints their bytes as hex, for the exact-bytes
// tests in tests/ua/types/types_test.cpp. Run once by hand; the test embeds the output and
// needs no node at run time:
//   node tools/make_ua_type_fixtures.mjs [tools/schema/node_modules]
// Every value here is mirrored, field by field, by the C++ test; change both together.
// castellan writes an empty String/ByteString as null (-1) and an empty array as 0 elements,
// so strings meant to be empty are given as null here, and arrays as [].
import { createRequire } from "node:module";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modulesDir = resolve(process.argv[2] ?? join(here, "schema", "node_modules"));
const require = createRequire(join(modulesDir, "noop.js"));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

const types = await load("node-opcua-types");
const { BinaryStream } = await load("node-opcua-binary-stream");
const { encodeExtensionObject } = await load("node-opcua-extension-object");
const { coerceNodeId, ExpandedNodeId, NodeId, NodeIdType } = await load("node-opcua-nodeid");
const { QualifiedName, LocalizedText } = await load("node-opcua-data-model");
const { StatusCodes } = await load("node-opcua-status-code");

const { version } = require("node-opcua-types/package.json");

function hex(encodeInto) {
  const stream = new BinaryStream(1 << 16);
  encodeInto(stream);
  return stream.buffer.subarray(0, stream.length).toString("hex").toUpperCase();
}
const body = (object) => hex((s) => object.encode(s));
const wrapped = (object) => hex((s) => encodeExtensionObject(object, s));

// 2024-01-02T03:04:05.678Z; the C++ side checks the tick count printed below.
const timestamp = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
const requestHeader = (authenticationToken, requestHandle) => ({
  authenticationToken, timestamp, requestHandle, returnDiagnostics: 0, auditEntryId: null, timeoutHint: 10000,
  additionalHeader: null,
});

const readRequest = new types.ReadRequest({
  requestHeader: requestHeader(coerceNodeId("ns=1;i=1001"), 42),
  maxAge: 0.5,
  timestampsToReturn: 2,  // Both
  nodesToRead: [
    { nodeId: coerceNodeId("i=2258"), attributeId: 13, indexRange: null, dataEncoding: new QualifiedName({ namespaceIndex: 0, name: null }) },
    { nodeId: coerceNodeId("ns=2;s=Demo.Static"), attributeId: 4, indexRange: "1:2", dataEncoding: new QualifiedName({ namespaceIndex: 0, name: "Default Binary" }) },
  ],
});

const activateSessionRequest = new types.ActivateSessionRequest({
  requestHeader: requestHeader(new NodeId(NodeIdType.GUID, "72962B91-FA75-4AE6-8D28-B404DC7DAF63", 1), 43),
  clientSignature: { algorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", signature: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) },
  clientSoftwareCertificates: [],
  localeIds: ["en-US", "de"],
  userIdentityToken: new types.UserNameIdentityToken({
    policyId: "username_basic256", userName: "operator", password: Buffer.from("secret"), encryptionAlgorithm: null,
  }),
  userTokenSignature: { algorithm: null, signature: null },
});

const createSessionRequest = new types.CreateSessionRequest({
  requestHeader: requestHeader(coerceNodeId("i=0"), 1),
  clientDescription: {
    applicationUri: "urn:castellan:test", productUri: "urn:castellan",
    applicationName: new LocalizedText({ locale: "en", text: "castellan test" }),
    applicationType: 1,  // Client
    gatewayServerUri: null, discoveryProfileUri: null, discoveryUrls: ["opc.tcp://localhost:4840"],
  },
  serverUri: "urn:server", endpointUrl: "opc.tcp://localhost:4840/ua", sessionName: "s1",
  clientNonce: Buffer.from(Array.from({ length: 32 }, (_, i) => i)),
  clientCertificate: null, requestedSessionTimeout: 60000, maxResponseMessageSize: 16777216,
});

const browseResponse = new types.BrowseResponse({
  responseHeader: {
    timestamp, requestHandle: 7, serviceResult: StatusCodes.Good, stringTable: ["a"], additionalHeader: null,
  },
  results: [{
    statusCode: StatusCodes.Good, continuationPoint: null,
    references: [{
      referenceTypeId: coerceNodeId("i=35"), isForward: true, nodeId: new ExpandedNodeId(NodeIdType.NUMERIC, 2253, 0),
      browseName: new QualifiedName({ namespaceIndex: 0, name: "Server" }),
      displayName: new LocalizedText({ locale: null, text: "Server" }),
      nodeClass: 1,  // Object
      typeDefinition: new ExpandedNodeId(NodeIdType.NUMERIC, 2004, 0),
    }],
  }, {
    statusCode: StatusCodes.BadNodeIdUnknown, continuationPoint: Buffer.from([9, 9]), references: [],
  }],
  diagnosticInfos: [],
});

const endpointDescription = new types.EndpointDescription({
  endpointUrl: "opc.tcp://localhost:4840/ua",
  server: {
    applicationUri: "urn:castellan", productUri: "urn:castellan", applicationName: new LocalizedText({ text: "castellan" }),
    applicationType: 0,  // Server
    gatewayServerUri: null, discoveryProfileUri: null, discoveryUrls: ["opc.tcp://localhost:4840/ua"],
  },
  serverCertificate: Buffer.from([0x30, 0x82, 0x01, 0x0A]),
  securityMode: 3,  // SignAndEncrypt
  securityPolicyUri: "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256",
  userIdentityTokens: [
    { policyId: "anonymous", tokenType: 0, issuedTokenType: null, issuerEndpointUrl: null, securityPolicyUri: null },
    { policyId: "username", tokenType: 1, issuedTokenType: null, issuerEndpointUrl: null,
      securityPolicyUri: "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256" },
  ],
  transportProfileUri: "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary",
  securityLevel: 3,
});

console.log(`// node-opcua-types ${version}; timestamp ticks ${BigInt(timestamp.getTime()) * 10000n + 116444736000000000n}`);
const fixtures = {
  read_request: body(readRequest),
  read_request_extension_object: wrapped(readRequest),
  activate_session_request: body(activateSessionRequest),
  create_session_request: body(createSessionRequest),
  browse_response: body(browseResponse),
  endpoint_description: body(endpointDescription),
};
for (const [name, bytes] of Object.entries(fixtures)) {
  console.log(`${name} (${bytes.length / 2} bytes):`);
  for (let i = 0; i < bytes.length; i += 96) console.log(`    "${bytes.slice(i, i + 96)}"`);
}
