// s3ImageStore against a real S3-compatible server (s3rver, started here): an image larger than
// the multipart threshold is streamed in parts and read back byte for byte; stat finds it; an
// image whose stream fails leaves no object.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { directoryImageStore } from "imagegen-webhooks";
import { s3ImageStore } from "imagegen-webhooks/s3";
import { resolveKeepImages } from "../../lib/images/options";
import { pngBytes, startImageServer, type ImageServer } from "../helpers/image-server";

const BUCKET = "kept";
let s3rver: S3rver;
let client: S3Client;
let dir: string;
let images: ImageServer;
const commands: string[] = [];
// Over the 5 MiB multipart threshold: two parts.
const large = pngBytes(6 * 1024 * 1024 + 123, 7);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "s3rver-"));
  s3rver = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir });
  const { port } = await s3rver.run();
  client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // Each command the stores send, by name: proof that a large image went up in parts.
  client.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(context.commandName as string);
      return next(args);
    },
    { step: "initialize" },
  );
  images = await startImageServer({ png: large });
}, 20_000);

afterAll(async () => {
  client.destroy();
  await images.close();
  await s3rver.close();
  await rm(dir, { recursive: true, force: true });
});

test("a large image is kept through keepImages in parts, read back byte for byte, and found by stat", async () => {
  const store = s3ImageStore({ client, bucket: BUCKET, prefix: "images/", publicBaseUrl: "https://cdn.example.com" });
  const keeper = resolveKeepImages({ store, allowedHosts: [images.host] });
  const event = {
    provider: "replicate",
    generation: { id: "pred-1", status: "completed", images: [{ url: `${images.origin}/chunked-png` }] },
  } as never as Parameters<typeof keeper.keep>[0];
  try {
    expect(await keeper.keep(event, false)).toEqual([]);
  } finally {
    keeper.close();
  }
  const [image] = event.generation.images;
  const key = image!.kept!.key;
  expect(image!.keptUrl).toBe(`https://cdn.example.com/images/${key}`);
  expect(image!.kept).toMatchObject({ size: large.length, contentType: "image/png" });

  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `images/${key}` }));
  expect(object.ContentType).toBe("image/png");
  expect(Buffer.from(await object.Body!.transformToByteArray()).equals(large)).toBe(true);
  expect(commands.filter((name) => name !== "GetObjectCommand")).toEqual([
    "HeadObjectCommand",
    "CreateMultipartUploadCommand",
    "UploadPartCommand",
    "UploadPartCommand",
    "CompleteMultipartUploadCommand",
  ]);
  expect(await store.stat(key)).toEqual({ key, url: image!.keptUrl, size: large.length, contentType: "image/png" });
  expect(await store.stat("replicate/pred-1/missing")).toBeUndefined();
});

test("a body that fails midway leaves no object", async () => {
  const store = s3ImageStore({ client, bucket: BUCKET });
  async function* failing() {
    yield large.subarray(0, 5 * 1024 * 1024 + 1);
    throw new Error("cut");
  }
  await expect(store.put("broken", Readable.from(failing()), { contentType: "image/png" })).rejects.toThrow();
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "broken" }));
  expect(listed.KeyCount ?? 0).toBe(0);
});

test("directoryImageStore refuses a key that leaves its directory", async () => {
  const store = directoryImageStore(dir);
  await expect(store.put("../escape", Readable.from([Buffer.from("x")]), { contentType: "image/png" })).rejects.toThrow(
    /leaves the directory/,
  );
});
