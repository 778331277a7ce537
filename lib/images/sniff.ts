/** How many leading bytes `sniffImage` wants; a shorter image is judged on what it has. */
export const SNIFF_BYTES = 32;

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const AVIF_BRANDS = new Set(["avif", "avis"]);

function startsWith(head: Buffer, bytes: readonly number[], at = 0): boolean {
  return head.length >= at + bytes.length && bytes.every((byte, i) => head[at + i] === byte);
}

function ascii(head: Buffer, from: number, to: number): string {
  return head.length >= to ? head.toString("latin1", from, to) : "";
}

/** AVIF is an ISO-BMFF file whose `ftyp` box names `avif` or `avis`, as its major brand or a compatible one. */
function isAvif(head: Buffer): boolean {
  if (ascii(head, 4, 8) !== "ftyp") return false;
  const boxEnd = Math.min(head.readUInt32BE(0), head.length);
  if (AVIF_BRANDS.has(ascii(head, 8, 12))) return true;
  for (let at = 16; at + 4 <= boxEnd; at += 4) if (AVIF_BRANDS.has(ascii(head, at, at + 4))) return true;
  return false;
}

/** The image type the leading bytes show (PNG, JPEG, WebP, GIF, AVIF), or `undefined`. */
export function sniffImage(head: Buffer): string | undefined {
  if (startsWith(head, PNG)) return "image/png";
  if (startsWith(head, [0xff, 0xd8, 0xff])) return "image/jpeg";
  const gif = ascii(head, 0, 6);
  if (gif === "GIF87a" || gif === "GIF89a") return "image/gif";
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") return "image/webp";
  if (isAvif(head)) return "image/avif";
  return undefined;
}

/** Names that senders use for the same type. */
const ALIASES: Record<string, string> = { "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png" };

/** The media type of a `Content-Type` header, lower-cased, without parameters. */
export function mediaType(header: string | undefined): string {
  const type = (header ?? "").split(";")[0]!.trim().toLowerCase();
  return ALIASES[type] ?? type;
}
