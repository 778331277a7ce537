// The CLI's Ed25519 keys (fal.ai, Ideogram): `--private-key <file>` to sign deliveries as the
// provider does, and `keys --private-key <file>` for the public key set to give the receiver as
// `jwks`. A file is a PEM private key (what `openssl genpkey -algorithm ed25519` writes) or a JWK.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { UsageError } from "../errors/usage-error";

/** A private key read from `--private-key`, with the id its public half has in the key set. */
export interface SigningKey {
  privateKey: KeyObject;
  /** The JWK's own `kid`, else its RFC 7638 thumbprint: what `keys` prints, and what Ideogram's deliveries name. */
  kid: string;
}

/** The public half as a JWK for a receiver's `jwks`. */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

const HOW = "a PEM private key (openssl genpkey -algorithm ed25519) or a JWK with its private part (d)";

/** RFC 7638: the SHA-256 of the key's required members, in this order, base64url. */
function thumbprint(x: string): string {
  return createHash("sha256")
    .update(JSON.stringify({ crv: "Ed25519", kty: "OKP", x }))
    .digest("base64url");
}

function publicX(privateKey: KeyObject): string {
  return (createPublicKey(privateKey).export({ format: "jwk" }) as { x: string }).x;
}

/** The one private JWK in a file of JSON: a JWK, or a key set holding exactly one private key. */
function privateJwk(file: string, json: unknown): Record<string, unknown> {
  const object = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  if (!Array.isArray(object.keys)) return object;
  const secret = (object.keys as unknown[]).filter(
    (key): key is Record<string, unknown> => typeof key === "object" && key !== null && "d" in key,
  );
  if (secret.length !== 1) {
    throw new UsageError(
      `--private-key ${file}: a key set with ${secret.length} private keys: give a file with one (the public key set is for the receiver)`,
    );
  }
  return secret[0]!;
}

/** Reads `--private-key`: an Ed25519 private key, or a usage error that says what the file is not. */
export async function readSigningKey(file: string): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`--private-key ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const trimmed = text.trim();
  let privateKey: KeyObject;
  let kid: string | undefined;
  if (trimmed.startsWith("{")) {
    let jwk: Record<string, unknown>;
    try {
      jwk = privateJwk(file, JSON.parse(trimmed));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--private-key ${file}: not JSON, nor a PEM key: give ${HOW}`);
    }
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519") throw new UsageError(`--private-key ${file}: not an Ed25519 key: give ${HOW}`);
    if (typeof jwk.d !== "string") {
      throw new UsageError(
        `--private-key ${file}: a public key (no "d"): sign with the private key; the public one goes in the receiver's jwks`,
      );
    }
    try {
      privateKey = createPrivateKey({ key: jwk as never, format: "jwk" });
    } catch (err) {
      throw new UsageError(`--private-key ${file}: not a valid Ed25519 JWK (${(err as Error).message})`);
    }
    if (typeof jwk.kid === "string" && jwk.kid !== "") kid = jwk.kid;
  } else {
    if (/-----BEGIN PUBLIC KEY-----/.test(trimmed)) {
      throw new UsageError(`--private-key ${file}: a public key: sign with the private key; the public one goes in the receiver's jwks`);
    }
    try {
      privateKey = createPrivateKey(trimmed);
    } catch {
      throw new UsageError(`--private-key ${file}: not a key: give ${HOW}`);
    }
    if (privateKey.asymmetricKeyType !== "ed25519") {
      throw new UsageError(`--private-key ${file}: a ${privateKey.asymmetricKeyType ?? "non-asymmetric"} key, not Ed25519: give ${HOW}`);
    }
  }
  return { privateKey, kid: kid ?? thumbprint(publicX(privateKey)) };
}

/** The public key set to give the receiver as `providers.<name>.jwks`. */
export function publicJwks({ privateKey, kid }: SigningKey): { keys: [PublicJwk] } {
  return { keys: [{ kty: "OKP", crv: "Ed25519", x: publicX(privateKey), kid, alg: "EdDSA", use: "sig" }] };
}

/**
 * `keys --private-key <file>`: the public key set of the key in the file, written there first (a
 * new PEM key, readable by its owner only) when there is no such file.
 */
export async function keysCommand(file: string | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (file === undefined) {
    throw new UsageError("keys needs --private-key <file>: the key to print the public key set of, made there if there is none");
  }
  try {
    const { privateKey } = generateKeyPairSync("ed25519");
    // "wx": never over a file that is there, which is read instead.
    await writeFile(file, privateKey.export({ format: "pem", type: "pkcs8" }), { flag: "wx", mode: 0o600 });
    err.write(`wrote a new Ed25519 private key to ${file}\n`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new UsageError(
        `--private-key ${file}: cannot write a new key there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  }
  out.write(`${JSON.stringify(publicJwks(await readSigningKey(file)), null, 2)}\n`);
  return 0;
}
