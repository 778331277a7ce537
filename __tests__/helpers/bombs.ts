/**
 * Compression bombs, built in a few milliseconds: zeros compressed once, then the compressor's
 * output for one more mebibyte of zeros, which is the same bytes every time once the stream is
 * flushed, repeated. Each inflates to exactly `mebibytes` MiB of zeros and ends as a valid stream.
 */
import { once } from "node:events";
import { constants, crc32, createBrotliCompress, createDeflateRaw, type BrotliCompress, type DeflateRaw } from "node:zlib";

const MIB = 1 << 20;
const zeros = Buffer.alloc(MIB);

/** The first flushed mebibyte, the one repeated after it, and the stream's end. */
async function flushedBlocks(stream: BrotliCompress | DeflateRaw, flush: number): Promise<[Buffer, Buffer, Buffer]> {
  let pending: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => void pending.push(chunk));
  const block = async () => {
    stream.write(zeros);
    await new Promise<void>((resolve) => stream.flush(flush, () => resolve()));
    const bytes = Buffer.concat(pending);
    pending = [];
    return bytes;
  };
  const first = await block();
  const repeated = await block();
  if (!repeated.equals(await block())) throw new Error("the compressor's flushed blocks differ: no bomb can be built this way");
  stream.end();
  await once(stream, "end");
  return [first, repeated, Buffer.concat(pending)];
}

function repeat(first: Buffer, repeated: Buffer, mebibytes: number): Buffer[] {
  return [first, ...Array.from({ length: mebibytes - 1 }, () => repeated)];
}

/** Raw deflate blocks, each a full flush (nothing refers back past it), and the final empty block. */
async function deflateBlocks(mebibytes: number): Promise<Buffer[]> {
  const [first, repeated] = await flushedBlocks(createDeflateRaw({ level: 9 }), constants.Z_FULL_FLUSH);
  return [...repeat(first, repeated, mebibytes), Buffer.from([0x03, 0x00])];
}

/** `Content-Encoding: deflate` (zlib format): its Adler-32 of n zeros is 1 and n mod 65521. */
export async function deflateBomb(mebibytes: number): Promise<Buffer> {
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((mebibytes * MIB) % 65521) * 65536 + 1) >>> 0);
  return Buffer.concat([Buffer.from([0x78, 0xda]), ...(await deflateBlocks(mebibytes)), adler]);
}

/** `Content-Encoding: gzip`. */
export async function gzipBomb(mebibytes: number): Promise<Buffer> {
  let crc = 0;
  for (let i = 0; i < mebibytes; i++) crc = crc32(zeros, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((mebibytes * MIB) % 2 ** 32, 4);
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x02, 0xff]);
  return Buffer.concat([header, ...(await deflateBlocks(mebibytes)), trailer]);
}

/** `Content-Encoding: br`. */
export async function brotliBomb(mebibytes: number): Promise<Buffer> {
  const compress = createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 2 } });
  const [first, repeated, end] = await flushedBlocks(compress, constants.BROTLI_OPERATION_FLUSH);
  return Buffer.concat([...repeat(first, repeated, mebibytes), end]);
}
