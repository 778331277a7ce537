/**
 * The two crypto backends agree: Web Crypto's (asynchronous) checks accept and refuse what
 * node:crypto's (synchronous) do, and the pure SHA-256 behind idempotency keys is SHA-256.
 */
import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { nodeCrypto } from "../../lib/crypto/node-crypto";
import { sha256 } from "../../lib/crypto/sha256";
import { webCrypto } from "../../lib/crypto/web-crypto";
import { createTokenVerifier } from "../../lib/pipeline/authenticate";
import { createSignatureVerifier, decodeSigningSecret } from "../../lib/pipeline/signature";
import { signDelivery } from "../../lib/entries/testing";
import vectors from "../fixtures/standard-webhooks-vectors.json";

const outcome = async (check: () => void | Promise<void>) => {
  try {
    await check();
    return "passed";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

test("the pure SHA-256 equals node:crypto's for any bytes, across block boundaries", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      expect(Buffer.from(sha256(bytes)).toString("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
    }),
  );
});

test("node:crypto checks synchronously; Web Crypto with promises; both give the same verdicts", async () => {
  const key = decodeSigningSecret(vectors.secret);
  const node = createSignatureVerifier([key], 300, nodeCrypto);
  const web = createSignatureVerifier([key], 300, webCrypto);
  const now = vectors.timestamp * 1000;
  const headers = (signature: string) => ({
    "webhook-id": vectors.id,
    "webhook-timestamp": String(vectors.timestamp),
    "webhook-signature": signature,
  });
  expect(node.verify(headers(vectors.signature), vectors.payload, now)).toBeUndefined();
  expect(web.verify(headers(vectors.signature), vectors.payload, now)).toBeInstanceOf(Promise);
  for (const signature of [vectors.signature, ...vectors.decoys, "v1,not*base64", `v1,${"A".repeat(44)}`]) {
    for (const body of [vectors.payload, Buffer.from(vectors.payload), `${vectors.payload} `]) {
      expect(await outcome(() => web.verify(headers(signature), body, now))).toBe(
        await outcome(() => node.verify(headers(signature), body, now)),
      );
    }
  }
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const signed = signDelivery("{}", { secret });
  expect(await outcome(() => createSignatureVerifier([decodeSigningSecret(secret)], 300, webCrypto).verify(signed, "{}"))).toBe("passed");
});

test("token checks agree on both backends, rotation included", async () => {
  const node = createTokenVerifier(["old-token", "new-token"], nodeCrypto)!;
  const web = createTokenVerifier(["old-token", "new-token"], webCrypto)!;
  for (const query of ["token=new-token", "token=old-token", "token=nope", "token=new-token2", ""]) {
    expect(await outcome(() => web.verify({}, query))).toBe(await outcome(() => node.verify({}, query)));
  }
  expect(await outcome(() => web.verify({ authorization: "Bearer old-token" }, undefined))).toBe("passed");
  expect(webCrypto.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
  expect(webCrypto.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
});
