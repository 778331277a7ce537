// `imagegen-webhooks`: the main entry, for Node (and Bun and Deno through their Node compatibility).
// What both entries share is in shared-exports.ts; here, what needs Node: createWebhooks with
// node:crypto, the (req, res, next) middleware's type, and keepImages' stores and errors.
export * from "./shared-exports";
export { createWebhooks } from "../webhooks/create-webhooks";
export type { NodeMiddleware } from "../http/node-middleware";
export { directoryImageStore, type DirectoryImageStoreOptions } from "../images/directory-store";
export type { ImageStore, StoredImage } from "../images/image-store";
export type { KeepImagesOptions } from "../images/keeper";
export { ImageKeepError, type ImageFailureReason } from "../errors/image-keep-error";
