// Bytes and text without relying on Buffer: Node's Buffer where the runtime has one (faster, and
// what the Node path always had), TextEncoder, TextDecoder, atob and btoa elsewhere.

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The length of a string in UTF-8 bytes. */
export function utf8Length(text: string): number {
  return NodeBuffer ? NodeBuffer.byteLength(text, "utf8") : encoder.encode(text).byteLength;
}

/** UTF-8 bytes as a string; invalid sequences become U+FFFD, as Buffer's toString does. */
export function decodeUtf8(bytes: Uint8Array): string {
  if (!NodeBuffer) return decoder.decode(bytes);
  return NodeBuffer.isBuffer(bytes)
    ? bytes.toString("utf8")
    : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/** Base64 (padded or not) as bytes; `undefined` where it does not decode. */
export function base64ToBytes(base64: string): Uint8Array | undefined {
  if (NodeBuffer) return NodeBuffer.from(base64, "base64");
  try {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** Bytes as padded base64. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
