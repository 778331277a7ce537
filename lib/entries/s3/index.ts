// The imagegen-webhooks/s3 entry point: the S3 image store, the only module that loads
// @aws-sdk/client-s3 and @aws-sdk/lib-storage (optional peers), so the main entry needs neither.
export { s3ImageStore, type S3ImageStoreOptions } from "../../images/s3-store";
export type { ImageStore, StoredImage } from "../../images/image-store";
