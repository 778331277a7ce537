import { randomBytes } from "node:crypto";
import express from "express";
import request from "supertest";
import { createWebhooks, type InvalidDelivery } from "../../lib/entries/index";
import { nodeCrypto } from "../../lib/crypto/node-crypto";
import { createSignatureVerifier as createVerifier, decodeSigningSecret, type SignatureVerifier } from "../../lib/pipeline/signature";
import { signStandardWebhook } from "../../lib/entries/testing/signer";
import { crazyhorseDelivery, signDelivery } from "../../lib/entries/testing";
import vectors from "../fixtures/standard-webhooks-vectors.json";

/** With node:crypto a verifier answers synchronously (__tests__/crypto/web-crypto.test.ts checks Web Crypto's promises). */
function createSignatureVerifier(keys: Uint8Array[], toleranceSeconds: number) {
  const verifier = createVerifier(keys, toleranceSeconds, nodeCrypto);
  return {
    verify(...args: Parameters<SignatureVerifier["verify"]>): void {
      if (verifier.verify(...args) !== undefined) throw new Error("node:crypto verified asynchronously");
    },
  };
}

const now = vectors.timestamp * 1000;
const verifier = createSignatureVerifier([decodeSigningSecret(vectors.secret)], 300);
const headers = (signature: string, overrides: Record<string, string> = {}) => ({
  "webhook-id": vectors.id,
  "webhook-timestamp": String(vectors.timestamp),
  "webhook-signature": signature,
  ...overrides,
});
const refused = (fn: () => void) => expect(fn).toThrow(expect.objectContaining({ code: "auth.failed", status: 401 }));

const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

describe("the Standard Webhooks test vectors", () => {
  test("signing the published payload gives the published signature", () => {
    expect(signStandardWebhook(vectors.secret, vectors.id, vectors.timestamp, vectors.payload)).toBe(vectors.signature);
  });

  test("the published signature verifies at its own time", () => {
    expect(() => verifier.verify(headers(vectors.signature), vectors.payload, now)).not.toThrow();
    expect(() => verifier.verify(headers(vectors.signature), Buffer.from(vectors.payload), now)).not.toThrow();
  });

  test("a header of several entries verifies when one of them is right, wherever it stands", () => {
    const [decoyV1, decoyV2] = vectors.decoys as [string, string];
    expect(() => verifier.verify(headers([decoyV1, decoyV2, vectors.signature, decoyV1].join(" ")), vectors.payload, now)).not.toThrow();
  });

  test("the decoys alone, and the right bytes under another version, are refused", () => {
    refused(() => verifier.verify(headers(vectors.decoys.join(" ")), vectors.payload, now));
    refused(() => verifier.verify(headers(vectors.signature.replace(/^v1,/, "v2,")), vectors.payload, now));
  });
});

describe("verification refuses, each with the same 401", () => {
  test.each([
    ["webhook-id", "missing id"],
    ["webhook-timestamp", "missing timestamp"],
    ["webhook-signature", "missing signature"],
  ])("without %s (%s)", (name) => {
    const sent: Record<string, string> = headers(vectors.signature);
    delete sent[name];
    refused(() => verifier.verify(sent, vectors.payload, now));
  });

  test.each([["hello"], ["-1614265330"], ["1614265330.5"], ["1e9"], [""]])("a timestamp that is not Unix seconds: %j", (timestamp) => {
    refused(() => verifier.verify(headers(vectors.signature, { "webhook-timestamp": timestamp }), vectors.payload, now));
  });

  test("a timestamp outside the tolerance, in the past (a replay) or the future, and inside it both ways", () => {
    const at = (offsetSeconds: number) => () => verifier.verify(headers(vectors.signature), vectors.payload, now + offsetSeconds * 1000);
    refused(at(301));
    refused(at(-301));
    expect(at(299)).not.toThrow();
    expect(at(-299)).not.toThrow();
  });

  test("a partial or empty signature, or garbage", () => {
    refused(() => verifier.verify(headers(vectors.signature.slice(0, 8)), vectors.payload, now));
    refused(() => verifier.verify(headers("v1,"), vectors.payload, now));
    refused(() => verifier.verify(headers("v1,dawfeoifkpqwoekfpqoekf"), vectors.payload, now));
    refused(() => verifier.verify(headers(" ".repeat(1000)), vectors.payload, now));
    refused(() => verifier.verify(headers(`v1,${"A".repeat(100_000)}`), vectors.payload, now));
  });

  test("the body, the id or the timestamp changed after signing", () => {
    refused(() => verifier.verify(headers(vectors.signature), `${vectors.payload} `, now));
    refused(() => verifier.verify(headers(vectors.signature, { "webhook-id": "msg_other" }), vectors.payload, now));
    refused(() =>
      verifier.verify(headers(vectors.signature, { "webhook-timestamp": String(vectors.timestamp + 1) }), vectors.payload, now + 1000),
    );
  });

  test("a signature made with another secret", () => {
    const other = signStandardWebhook(newSecret(), vectors.id, vectors.timestamp, vectors.payload);
    refused(() => verifier.verify(headers(other), vectors.payload, now));
  });
});

describe("rotation", () => {
  test("with two secrets configured, a delivery signed with either verifies", () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()];
    const rotating = createSignatureVerifier([decodeSigningSecret(oldSecret), decodeSigningSecret(newOne)], 300);
    for (const secret of [oldSecret, newOne]) {
      expect(() => rotating.verify(signDelivery("{}", { secret, timestamp: vectors.timestamp }), "{}", now)).not.toThrow();
    }
  });

  test("a sender that signs with both keys while it rotates verifies against either one", () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()];
    const sent = signDelivery("{}", { secret: [oldSecret, newOne], timestamp: vectors.timestamp });
    expect(sent["webhook-signature"].split(" ")).toHaveLength(2);
    for (const secret of [oldSecret, newOne]) {
      expect(() => createSignatureVerifier([decodeSigningSecret(secret)], 300).verify(sent, "{}", now)).not.toThrow();
    }
  });
});

describe("signing secrets", () => {
  test.each([
    ["no whsec_ prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", /whsec_/],
    ["not base64", "whsec_not*base64*at*all*not*base64*at*all", /does not decode/],
    ["too short", `whsec_${Buffer.alloc(8).toString("base64")}`, /at least 24 bytes/],
  ])("%s is refused with a message that says what is wrong and does not echo it", (_, secret, message) => {
    let error: unknown;
    try {
      decodeSigningSecret(secret);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(secret.slice(6));
  });

  test("createWebhooks throws for a malformed signing secret, a bad tolerance or an unknown key, naming the option", () => {
    const make = (signature: unknown) => () => createWebhooks({ providers: { crazyhorse: { signature: signature as never } } });
    expect(make({ secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" })).toThrow(/providers\.crazyhorse\.signature\.secret: .*whsec_/);
    expect(make({ secret: [newSecret(), "whsec_short"] })).toThrow(/providers\.crazyhorse\.signature\.secret\[1\]/);
    expect(make({ secret: undefined })).toThrow(/environment variable/);
    expect(make({ secret: newSecret(), toleranceSeconds: 0 })).toThrow(/toleranceSeconds/);
    expect(make({ secret: newSecret(), tolerance: 10 })).toThrow(/unknown option "tolerance"/);
    expect(make("whsec_x")).toThrow(/must be an object/);
  });
});

describe("a provider that signs, through the pipeline", () => {
  const secret = newSecret();
  const token = "token-for-signature-tests";

  function setup(providerOptions: Record<string, unknown>) {
    const webhooks = createWebhooks({ providers: { crazyhorse: providerOptions } });
    const emitted: string[] = [];
    const invalid: InvalidDelivery[] = [];
    webhooks.on("*", (event) => void emitted.push(event.name));
    webhooks.on("invalid", (event) => void invalid.push(event));
    const app = express();
    app.use("/webhooks", webhooks.middleware());
    return { webhooks, app, emitted, invalid };
  }

  test("a signature alone is a way to authenticate: signed passes, unsigned and forged are 401 and emit nothing", async () => {
    const { app, emitted, invalid } = setup({ signature: { secret } });
    const body = JSON.stringify(crazyhorseDelivery());
    const ok = await request(app).post("/webhooks/crazyhorse").type("json").set(signDelivery(body, { secret })).send(body);
    expect(ok.status).toBe(200);
    expect(ok.text).toBe("success");

    const unsigned = await request(app).post("/webhooks/crazyhorse").type("json").send(JSON.stringify(crazyhorseDelivery()));
    const forged = await request(app)
      .post("/webhooks/crazyhorse")
      .type("json")
      .set(signDelivery(body, { secret: newSecret() }))
      .send(JSON.stringify(crazyhorseDelivery()));
    for (const res of [unsigned, forged]) {
      expect(res.status).toBe(401);
      expect(res.headers["content-type"]).toBe("application/problem+json");
      expect(res.text).not.toContain(secret);
    }
    expect(emitted).toEqual(["crazyhorse.done"]);
    expect(invalid).toEqual([
      { provider: "crazyhorse", status: 401, reason: "auth.failed" },
      { provider: "crazyhorse", status: 401, reason: "auth.failed" },
    ]);
    expect(JSON.stringify(invalid)).not.toContain(secret);
  });

  test("a body signed and then changed in transit is refused", async () => {
    const { app, emitted } = setup({ signature: { secret } });
    const signed = JSON.stringify(crazyhorseDelivery({ state: "WAITING" }));
    const res = await request(app)
      .post("/webhooks/crazyhorse")
      .type("json")
      .set(signDelivery(signed, { secret }))
      .send(signed.replace("WAITING", "DONE"));
    expect(res.status).toBe(401);
    expect(emitted).toEqual([]);
  });

  test("with a token and a signature configured, both are required", async () => {
    const { app, emitted } = setup({ secret: token, signature: { secret } });
    const body = JSON.stringify(crazyhorseDelivery({ state: "WAITING" }));
    const signedOnly = await request(app).post("/webhooks/crazyhorse").type("json").set(signDelivery(body, { secret })).send(body);
    const tokenOnly = await request(app).post("/webhooks/crazyhorse").type("json").set("x-webhook-token", token).send(body);
    const both = await request(app)
      .post("/webhooks/crazyhorse")
      .type("json")
      .set("x-webhook-token", token)
      .set(signDelivery(body, { secret }))
      .send(body);
    expect([signedOnly.status, tokenOnly.status, both.status]).toEqual([401, 401, 200]);
    expect(emitted).toEqual(["crazyhorse.waiting"]);
  });

  test("toleranceSeconds is honoured: a delivery signed 2 minutes ago passes the default, not a 60 s tolerance", async () => {
    const body = JSON.stringify(crazyhorseDelivery());
    const sent = signDelivery(body, { secret, timestamp: Date.now() / 1000 - 120 });
    const lenient = setup({ signature: { secret } });
    const strict = setup({ signature: { secret, toleranceSeconds: 60 } });
    expect((await request(lenient.app).post("/webhooks/crazyhorse").type("json").set(sent).send(body)).status).toBe(200);
    expect((await request(strict.app).post("/webhooks/crazyhorse").type("json").set(sent).send(body)).status).toBe(401);
  });

  test("receive() checks the signature over the bytes it is given", async () => {
    const { webhooks, emitted } = setup({ signature: { secret } });
    const rawBody = Buffer.from(JSON.stringify(crazyhorseDelivery()));
    const answer = await webhooks.receive({
      provider: "crazyhorse",
      headers: { "content-type": "application/json", ...signDelivery(rawBody, { secret }) },
      rawBody,
    });
    expect(answer.status).toBe(200);
    expect(emitted).toHaveLength(1);
  });
});
