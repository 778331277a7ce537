export { bullmqInbox, type BullmqInbox } from "../../inbox/bullmq/bullmq-inbox";
export type { DeliveryJobData } from "../../inbox/bullmq/jobs";
export { InboxUnavailableError } from "../../inbox/bullmq/enqueue";
export {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF,
  DEFAULT_CLUSTER_PREFIX,
  DEFAULT_ENQUEUE_TIMEOUT_MS,
  DEFAULT_KEEP,
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_QUEUE_NAME,
  DEFAULT_WAIT_FOR_REPLICAS_TIMEOUT_MS,
  type BullmqInboxOptions,
} from "../../inbox/bullmq/options";
// Every type of the Inbox interface: what an inbox is, stores and answers.
export type * from "../../inbox/inbox";
