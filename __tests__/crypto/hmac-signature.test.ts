/**
 * The HMAC-of-the-body scheme (Black Forest Labs' `X-BFL-Signature: sha256=<hex>`): what a sender
 * signs with node:crypto's own HMAC is accepted on both crypto backends, and anything else is a 401.
 */
import { createHmac } from "node:crypto";
import { nodeCrypto } from "../../lib/crypto/node-crypto";
import { webCrypto } from "../../lib/crypto/web-crypto";
import { hmacSignature } from "../../lib/signatures/hmac-signature";

const bfl = hmacSignature({ header: "X-BFL-Signature", prefix: "sha256=" });
const secret = "bfl-webhook-secret";
const body = JSON.stringify({ id: "gen_abc123xyz", status: "Ready", result: { sample: "https://example.com/a.png", seed: 1 } });
const signed = (key: string, text: string) => `sha256=${createHmac("sha256", key).update(text).digest("hex")}`;

const outcome = async (check: () => void | Promise<void>) => {
  try {
    await check();
    return "passed";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

describe.each([
  ["node:crypto", nodeCrypto],
  ["Web Crypto", webCrypto],
])("on %s", (_name, crypto) => {
  const verifier = bfl.createVerifier([secret], crypto);
  const verify = (headers: Record<string, string>, raw: string | Uint8Array = body) => outcome(() => verifier.verify(headers, raw));

  test("accepts the body signed with node:crypto's HMAC, as text or bytes, in any header case and hex case", async () => {
    expect(await verify({ "x-bfl-signature": signed(secret, body) })).toBe("passed");
    expect(await verify({ "X-BFL-Signature": signed(secret, body).toUpperCase().replace("SHA256=", "sha256=") })).toBe("passed");
    expect(await verify({ "x-bfl-signature": signed(secret, body) }, new TextEncoder().encode(body))).toBe("passed");
    expect(await verify({ "x-bfl-signature": ` ${signed(secret, body)} ` })).toBe("passed");
  });

  test("refuses another secret's signature, a tampered body, a missing header, another prefix and a digest that is not hex", async () => {
    expect(await verify({ "x-bfl-signature": signed("not-the-secret", body) })).toBe("auth.failed");
    expect(await verify({ "x-bfl-signature": signed(secret, body) }, body.replace("Ready", "Error"))).toBe("auth.failed");
    expect(await verify({})).toBe("auth.failed");
    expect(await verify({ "x-bfl-signature": signed(secret, body).replace("sha256=", "sha1=") })).toBe("auth.failed");
    expect(await verify({ "x-bfl-signature": signed(secret, body).slice("sha256=".length) })).toBe("auth.failed");
    expect(await verify({ "x-bfl-signature": `sha256=${"zz".repeat(32)}` })).toBe("auth.failed");
    expect(await verify({ "x-bfl-signature": signed(secret, body).slice(0, -2) })).toBe("auth.failed");
  });

  test("accepts either secret while the provider rotates", async () => {
    const rotating = bfl.createVerifier(["old-secret", "new-secret"], crypto);
    for (const key of ["old-secret", "new-secret"]) {
      expect(await outcome(() => rotating.verify({ "x-bfl-signature": signed(key, body) }, body))).toBe("passed");
    }
    expect(await outcome(() => rotating.verify({ "x-bfl-signature": signed(secret, body) }, body))).toBe("auth.failed");
  });

  test("sign() gives the header a verifier accepts, equal to node:crypto's HMAC", async () => {
    const headers = await bfl.sign(secret, body, crypto);
    expect(headers).toEqual({ "x-bfl-signature": signed(secret, body) });
    expect(await verify(headers)).toBe("passed");
  });
});

test("on node:crypto the check is synchronous: no promise for a delivery", () => {
  const verifier = bfl.createVerifier([secret], nodeCrypto);
  expect(verifier.verify({ "x-bfl-signature": signed(secret, body) }, body)).toBeUndefined();
  expect(() => verifier.verify({ "x-bfl-signature": signed("other", body) }, body)).toThrow(expect.objectContaining({ status: 401 }));
});

test("a header name and prefix are configurable; a bad declaration or an empty secret throws at start-up", async () => {
  const plain = hmacSignature({ header: "x-signature" }).createVerifier([secret], nodeCrypto);
  const hex = createHmac("sha256", secret).update(body).digest("hex");
  expect(await outcome(() => plain.verify({ "x-signature": hex }, body))).toBe("passed");
  expect(await outcome(() => plain.verify({ "x-bfl-signature": `sha256=${hex}` }, body))).toBe("auth.failed");
  expect(() => hmacSignature({ header: "not a header" })).toThrow(/header must be a header name/);
  expect(() => bfl.createVerifier([], nodeCrypto)).toThrow(/non-empty secrets/);
  expect(() => bfl.createVerifier([""], nodeCrypto)).toThrow(/non-empty secrets/);
});
