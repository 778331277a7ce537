export { bullmqInbox, type BullmqInbox } from "../inbox/bullmq/bullmq-inbox";
export type { DeliveryJobData } from "../inbox/bullmq/jobs";
export { InboxUnavailableError } from "../inbox/bullmq/enqueue";
export {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF,
  DEFAULT_ENQUEUE_TIMEOUT_MS,
  DEFAULT_KEEP,
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_QUEUE_NAME,
  type BullmqInboxOptions,
} from "../inbox/bullmq/options";
export type {
  DeadHandler,
  DeliveryAttemptError,
  DeliveryDetail,
  DeliveryFilter,
  DeliveryRun,
  DeliveryStatus,
  DeliverySummary,
  Inbox,
  InboxWorker,
  InboxWorkerOptions,
  StoredDelivery,
} from "../inbox/inbox";
