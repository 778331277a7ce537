import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Readable } from "node:stream";
import type { ImageStore, StoredImage } from "./image-store";
import { ConfigError } from "../options/checks";

/** The options of `s3ImageStore`. */
export interface S3ImageStoreOptions {
  /** Your `S3Client`, with its region, credentials and, for another S3-compatible service, its `endpoint`. */
  client: S3Client;
  bucket: string;
  /** Put before every key, e.g. `kept/`. Default none. */
  prefix?: string;
  /** Where the bucket is served (a CDN, a public bucket URL): `keptUrl` is this and the key. Default: an `s3://` URL. */
  publicBaseUrl?: string;
  /**
   * The size of a multipart upload's parts, in bytes: an image larger is sent in parts, and memory
   * holds one part per upload in progress. Default 5 MiB, the least S3 accepts.
   */
  partSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Kept images in an S3 bucket (AWS, or any S3-compatible service), streamed, in parts when large. */
export function s3ImageStore(options: S3ImageStoreOptions): ImageStore {
  const { client, bucket, prefix = "", publicBaseUrl, partSize = MIN_PART_SIZE } = options;
  if (typeof client?.send !== "function") throw new ConfigError("s3ImageStore needs an S3Client from @aws-sdk/client-s3");
  if (typeof bucket !== "string" || bucket === "") throw new ConfigError("s3ImageStore needs a bucket name");
  const base = publicBaseUrl === undefined ? `s3://${bucket}/` : withSlash(new URL(publicBaseUrl).href);
  const urlOf = (key: string): string => base + (prefix + key).split("/").map(encodeURIComponent).join("/");

  return {
    async put(key: string, body: Readable, { contentType }: { contentType: string }) {
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: prefix + key, Body: body, ContentType: contentType },
        partSize,
        // One part in memory at a time per image: `concurrency` images bound the buffers, not their sizes.
        queueSize: 1,
        leavePartsOnError: false,
      });
      await upload.done();
      return { key, url: urlOf(key) };
    },

    async stat(key: string): Promise<StoredImage | undefined> {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: prefix + key }));
        return { key, url: urlOf(key), size: head.ContentLength ?? 0, contentType: head.ContentType ?? "application/octet-stream" };
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (err as Error).name === "NotFound") return undefined;
        throw err;
      }
    },
  };
}

function withSlash(href: string): string {
  return href.endsWith("/") ? href : `${href}/`;
}
