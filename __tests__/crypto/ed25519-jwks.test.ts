/**
 * Ed25519 over a provider's message with keys from a JWKS (fal.ai, Ideogram): deliveries signed
 * with node:crypto's own `sign(null, …)` over the documented message are accepted; forgeries,
 * tampering, stale or future timestamps and another account's deliveries are refused; a key
 * rotated in on a local key server is accepted on its first delivery; a key server that is down,
 * failing or hanging is `keys.unavailable` (503), never a 401.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject, type webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";
import { nodeCrypto } from "../../lib/crypto/node-crypto";
import { webCrypto } from "../../lib/crypto/web-crypto";
import { ed25519Jwks, signedLines } from "../../lib/signatures/ed25519-jwks";

const fal = ed25519Jwks({
  jwksUrl: "https://rest.alpha.fal.ai/.well-known/jwks.json",
  signatureHeader: "X-Fal-Webhook-Signature",
  timestampHeader: "X-Fal-Webhook-Timestamp",
  userIdHeader: "X-Fal-Webhook-User-Id",
  message: signedLines(["X-Fal-Webhook-Request-Id", "X-Fal-Webhook-User-Id", "X-Fal-Webhook-Timestamp"]),
});
const ideogram = ed25519Jwks({
  jwksUrl: "https://api.ideogram.ai/v1/.well-known/jwks.json",
  signatureHeader: "X-Ideogram-Webhook-Signature",
  timestampHeader: "X-Ideogram-Webhook-Timestamp",
  userIdHeader: "X-Ideogram-Webhook-User-Id",
  keyIdHeader: "X-Ideogram-Webhook-Key-Id",
  message: signedLines(["X-Ideogram-Webhook-Generation-Id", "X-Ideogram-Webhook-User-Id", "X-Ideogram-Webhook-Timestamp"]),
});

interface Pair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: JWK;
}
const keyPair = (kid?: string): Pair => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey, jwk: { ...(publicKey.export({ format: "jwk" }) as JWK), ...(kid && { kid }) } };
};

const body = JSON.stringify({
  request_id: "123e4567-e89b-12d3-a456-426614174000",
  status: "OK",
  payload: { images: [{ url: "https://url.to/image.png" }] },
});
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** What fal sends: the four documented lines, signed with the private key, in hex. */
function falHeaders(key: KeyObject, options: { userId?: string; timestamp?: number; raw?: string } = {}): Record<string, string> {
  const { userId = "user-1", timestamp = nowSeconds(), raw = body } = options;
  const requestId = "123e4567-e89b-12d3-a456-426614174000";
  const message = [requestId, userId, String(timestamp), createHash("sha256").update(raw).digest("hex")].join("\n");
  return {
    "x-fal-webhook-request-id": requestId,
    "x-fal-webhook-user-id": userId,
    "x-fal-webhook-timestamp": String(timestamp),
    "x-fal-webhook-signature": sign(null, Buffer.from(message), key).toString("hex"),
  };
}

function ideogramHeaders(pair: Pair, userId = "user-1"): Record<string, string> {
  const timestamp = String(nowSeconds());
  const message = ["xtdZiqPwRxqY1Y7NExFmzB", userId, timestamp, createHash("sha256").update(body).digest("hex")].join("\n");
  return {
    "x-ideogram-webhook-generation-id": "xtdZiqPwRxqY1Y7NExFmzB",
    "x-ideogram-webhook-user-id": userId,
    "x-ideogram-webhook-timestamp": timestamp,
    "x-ideogram-webhook-key-id": pair.jwk.kid as string,
    "x-ideogram-webhook-signature": sign(null, Buffer.from(message), pair.privateKey).toString("hex"),
  };
}

const outcome = async (check: () => void | Promise<void>) => {
  try {
    await check();
    return "passed";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

/** A key server on 127.0.0.1 whose keys and behaviour a test changes, counting the fetches. */
interface KeyServer {
  url: string;
  keys: JWK[];
  mode: "keys" | "500" | "hang" | "malformed";
  fetches: number;
  close(): Promise<void>;
}
async function keyServer(keys: JWK[]): Promise<KeyServer> {
  const state = { keys, mode: "keys" as KeyServer["mode"], fetches: 0 };
  const server: Server = createServer((_req, res) => {
    state.fetches++;
    if (state.mode === "hang") return;
    if (state.mode === "500") return void res.writeHead(500).end("down for maintenance");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(state.mode === "malformed" ? '{"keys": "none"' : JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** jose's cooldown and cache read Date.now(): the clock is moved instead of waited for. */
let offsetMs = 0;
const realNow = Date.now.bind(Date);
beforeEach(() => {
  offsetMs = 0;
  jest.spyOn(Date, "now").mockImplementation(() => realNow() + offsetMs);
});
afterEach(() => jest.restoreAllMocks());

describe.each([
  ["node:crypto", nodeCrypto],
  ["Web Crypto", webCrypto],
])("static keys (jwks), no network, on %s", (_name, crypto) => {
  const signer = keyPair();
  const other = keyPair();
  const verifier = fal.createVerifier({ jwks: { keys: [other.jwk, signer.jwk] }, userId: "user-1" }, crypto);
  const verify = (headers: Record<string, string>, raw = body) => outcome(() => verifier.verify(headers, raw));

  test("accepts a delivery signed with node:crypto over the documented message, by any key of the set, the body as text or bytes", async () => {
    expect(await verify(falHeaders(signer.privateKey))).toBe("passed");
    expect(await verify(falHeaders(other.privateKey))).toBe("passed");
    // The pipeline hands the raw body over as bytes.
    expect(await outcome(() => verifier.verify(falHeaders(signer.privateKey), new TextEncoder().encode(body)))).toBe("passed");
  });

  test("refuses a forged signature, a tampered body, a signature that is not hex, and missing headers", async () => {
    expect(await verify(falHeaders(keyPair().privateKey))).toBe("auth.failed");
    expect(await verify(falHeaders(signer.privateKey), body.replace('"OK"', '"ERROR"'))).toBe("auth.failed");
    const headers = falHeaders(signer.privateKey);
    expect(await verify({ ...headers, "x-fal-webhook-signature": "zz".repeat(64) })).toBe("auth.failed");
    expect(await verify({ ...headers, "x-fal-webhook-request-id": "another-request" })).toBe("auth.failed");
    for (const name of Object.keys(headers)) {
      const { [name]: _left, ...rest } = headers;
      expect(await verify(rest)).toBe("auth.failed");
    }
  });

  test("checks the timestamp both ways: within 300 s either side passes, past it is refused", async () => {
    // Ten seconds either side of the edge: the test's clock reads "now" before the verifier does, and
    // a busy machine may take seconds in between.
    const now = nowSeconds();
    expect(await verify(falHeaders(signer.privateKey, { timestamp: now - 290 }))).toBe("passed");
    expect(await verify(falHeaders(signer.privateKey, { timestamp: now + 290 }))).toBe("passed");
    expect(await verify(falHeaders(signer.privateKey, { timestamp: now - 310 }))).toBe("auth.failed");
    expect(await verify(falHeaders(signer.privateKey, { timestamp: now + 310 }))).toBe("auth.failed");
  });

  test("refuses a validly signed delivery for another account as auth.wrong-account (401)", async () => {
    const refusal = await Promise.resolve(verifier.verify(falHeaders(signer.privateKey, { userId: "someone-else" }), body)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toMatchObject({ code: "auth.wrong-account", status: 401 });
    // Without userId every account's delivery passes: the provider signed it, nothing more is known.
    const anyAccount = fal.createVerifier({ jwks: { keys: [signer.jwk] } }, crypto);
    expect(await outcome(() => anyAccount.verify(falHeaders(signer.privateKey, { userId: "someone-else" }), body))).toBe("passed");
  });
});

describe("keys fetched from a JWKS URL (a local key server on 127.0.0.1)", () => {
  let server: KeyServer | undefined;
  afterEach(() => server?.close());

  test("fal style, no key id: a key rotated in is accepted on its first delivery, with one more fetch", async () => {
    const first = keyPair();
    server = await keyServer([first.jwk]);
    const verifier = fal.createVerifier({ jwksUrl: server.url, userId: "user-1" }, nodeCrypto);
    expect(await outcome(() => verifier.verify(falHeaders(first.privateKey), body))).toBe("passed");
    expect(await outcome(() => verifier.verify(falHeaders(first.privateKey), body))).toBe("passed");
    expect(server.fetches).toBe(1);

    const rotated = keyPair();
    server.keys = [rotated.jwk];
    offsetMs = 31_000; // past jose's 30 s cooldown since the first fetch
    expect(await outcome(() => verifier.verify(falHeaders(rotated.privateKey), body))).toBe("passed");
    expect(server.fetches).toBe(2);
  });

  test("forgeries make it fetch at most once per cooldown", async () => {
    const signer = keyPair();
    server = await keyServer([signer.jwk]);
    const verifier = fal.createVerifier({ jwksUrl: server.url }, nodeCrypto);
    for (let i = 0; i < 5; i++) {
      expect(await outcome(() => verifier.verify(falHeaders(keyPair().privateKey), body))).toBe("auth.failed");
    }
    expect(server.fetches).toBe(1);
    offsetMs = 31_000;
    for (let i = 0; i < 5; i++) {
      expect(await outcome(() => verifier.verify(falHeaders(keyPair().privateKey), body))).toBe("auth.failed");
    }
    expect(server.fetches).toBe(2);
  });

  test("Ideogram style, with key ids: an unknown kid fetches the set again and the new key is accepted on its first delivery", async () => {
    const first = keyPair("key-2026-01");
    server = await keyServer([first.jwk]);
    const verifier = ideogram.createVerifier({ jwksUrl: server.url, userId: "user-1" }, nodeCrypto);
    expect(await outcome(() => verifier.verify(ideogramHeaders(first), body))).toBe("passed");

    const rotated = keyPair("key-2026-02");
    server.keys = [first.jwk, rotated.jwk];
    offsetMs = 31_000;
    expect(await outcome(() => verifier.verify(ideogramHeaders(rotated), body))).toBe("passed");
    expect(server.fetches).toBe(2);
    // The kid selects the key: the right signature under another key's id is refused.
    expect(await outcome(() => verifier.verify({ ...ideogramHeaders(rotated), "x-ideogram-webhook-key-id": "key-2026-01" }, body))).toBe(
      "auth.failed",
    );
    expect(await outcome(() => verifier.verify(ideogramHeaders(rotated, "someone-else"), body))).toBe("auth.wrong-account");
  });

  test.each(["500", "malformed"] as const)("a key server answering %s is keys.unavailable: 503 with Retry-After", async (mode) => {
    server = await keyServer([keyPair().jwk]);
    server.mode = mode;
    const verifier = fal.createVerifier({ jwksUrl: server.url }, nodeCrypto);
    const refusal = await Promise.resolve(verifier.verify(falHeaders(keyPair().privateKey), body)).catch((err: unknown) => err);
    expect(refusal).toMatchObject({ code: "keys.unavailable", status: 503, headers: { "retry-after": "30" } });
  });

  test("a key server that is down is keys.unavailable", async () => {
    const signer = keyPair();
    server = await keyServer([signer.jwk]);
    const { url } = server;
    await server.close();
    server = undefined;
    const verifier = fal.createVerifier({ jwksUrl: url }, nodeCrypto);
    expect(await outcome(() => verifier.verify(falHeaders(signer.privateKey), body))).toBe("keys.unavailable");
  });

  test("a key server that hangs is keys.unavailable within jose's 5 s timeout", async () => {
    server = await keyServer([keyPair().jwk]);
    server.mode = "hang";
    const verifier = fal.createVerifier({ jwksUrl: server.url }, nodeCrypto);
    const started = performance.now();
    expect(await outcome(() => verifier.verify(falHeaders(keyPair().privateKey), body))).toBe("keys.unavailable");
    expect(performance.now() - started).toBeLessThan(7_000);
  }, 15_000);

  test("a failing refetch after a rotation is keys.unavailable, not a 401", async () => {
    const first = keyPair();
    server = await keyServer([first.jwk]);
    const verifier = fal.createVerifier({ jwksUrl: server.url }, nodeCrypto);
    expect(await outcome(() => verifier.verify(falHeaders(first.privateKey), body))).toBe("passed");
    server.mode = "500";
    offsetMs = 31_000;
    expect(await outcome(() => verifier.verify(falHeaders(keyPair().privateKey), body))).toBe("keys.unavailable");
  });
});

describe("configuration mistakes throw at start-up", () => {
  test("a jwksUrl that is not https is refused, except on a loopback host", () => {
    expect(() => fal.createVerifier({ jwksUrl: "http://keys.example.com/jwks.json" }, nodeCrypto)).toThrow(/jwksUrl must be https/);
    expect(() => fal.createVerifier({ jwksUrl: "http://10.0.0.1/jwks.json" }, nodeCrypto)).toThrow(/jwksUrl must be https/);
    expect(() => fal.createVerifier({ jwksUrl: "ftp://127.0.0.1/jwks.json" }, nodeCrypto)).toThrow(/jwksUrl must be https/);
    expect(() => fal.createVerifier({ jwksUrl: "not a url" }, nodeCrypto)).toThrow(/jwksUrl must be an https URL/);
    expect(() => ed25519Jwks({ ...fal.definition, jwksUrl: "http://keys.example.com/jwks.json" })).toThrow(/jwksUrl must be https/);
    for (const url of ["https://keys.example.com/jwks.json", "http://127.0.0.1:1/jwks.json", "http://localhost:1/j", "http://[::1]:1/j"]) {
      expect(() => fal.createVerifier({ jwksUrl: url }, nodeCrypto)).not.toThrow();
    }
  });

  test("static keys must be Ed25519 public keys; jwks and jwksUrl are one or the other", () => {
    const { privateKey, jwk } = keyPair();
    expect(() => fal.createVerifier({ jwks: { keys: [privateKey.export({ format: "jwk" }) as JWK] } }, nodeCrypto)).toThrow(/private key/);
    expect(() => fal.createVerifier({ jwks: { keys: [{ kty: "EC", crv: "P-256", x: "a", y: "b" }] } }, nodeCrypto)).toThrow(
      /Ed25519 public key/,
    );
    expect(() => fal.createVerifier({ jwks: { keys: [] } }, nodeCrypto)).toThrow(/jwks must be a key set/);
    expect(() => fal.createVerifier({ jwks: { keys: [jwk] }, jwksUrl: "https://keys.example.com/j" }, nodeCrypto)).toThrow(/not both/);
    expect(() => fal.createVerifier({ jwks: { keys: [jwk] }, userId: "" }, nodeCrypto)).toThrow(/userId/);
  });
});

describe("the Web Crypto backend verifies Ed25519 itself", () => {
  const { privateKey, publicKey: keyObject, jwk } = keyPair();
  const message = new TextEncoder().encode("request\nuser\n1700000000\nabc");
  const signature = new Uint8Array(sign(null, message, privateKey));

  test("with a CryptoKey (jose's browser build) and with a KeyObject (its Node build)", async () => {
    const cryptoKey = await globalThis.crypto.subtle.importKey("jwk", jwk as webcrypto.JsonWebKey, { name: "Ed25519" }, true, ["verify"]);
    for (const key of [cryptoKey, keyObject]) {
      expect(await webCrypto.verifyEd25519(key, message, signature)).toBe(true);
      expect(await webCrypto.verifyEd25519(key, message.slice(1), signature)).toBe(false);
      expect(nodeCrypto.verifyEd25519(key, message, signature)).toBe(true);
    }
    expect(await webCrypto.verifyEd25519("not a key", message, signature)).toBe(false);
    expect(nodeCrypto.verifyEd25519(privateKey, message, signature)).toBe(false);
  });
});
