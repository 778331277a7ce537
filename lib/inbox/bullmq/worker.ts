import { WaitingError, Worker } from "bullmq";
import type { DeadHandler, DeliveryRun, InboxWorker, InboxWorkerOptions, StoredDelivery } from "../inbox";
import { attemptLogLine, deliveryOf, type DeliveryJob, type DeliveryJobData } from "./jobs";
import { messageOf } from "./enqueue";
import type { BullmqInboxState } from "./state";
import { ConfigError } from "../../options/checks";

export type RunDelivery = (delivery: StoredDelivery, context: DeliveryRun) => Promise<void>;

/**
 * A BullMQ worker over each of the inbox's queues (`concurrency` each). BullMQ does the rest: a rejected run fails the attempt
 * and BullMQ retries it with the job's backoff; after the last one the job stays in the failed set.
 */
export async function startWorker(
  state: BullmqInboxState,
  run: RunDelivery,
  options: InboxWorkerOptions & { onDead?: DeadHandler },
): Promise<InboxWorker> {
  const { concurrency = 1, onDead, onError = () => {} } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError(`concurrency must be a whole number ≥ 1, got ${String(concurrency)}`, "startWorker");
  const { queueName, connection, lockDurationMs } = state.options;

  const leaving = leaveActive();
  async function runDelivery(job: DeliveryJob): Promise<void> {
    const context = runOf(job);
    try {
      await Promise.race([run(deliveryOf(job), context), leaving.left]);
    } catch (err) {
      if (err === LEFT) throw new WaitingError();
      // BullMQ keeps only the last failure's reason; each attempt's message goes to the job's log.
      // A log that cannot be written must not hide the run's own error.
      await job.log(attemptLogLine({ attempt: context.attempt, message: messageOf(err), at: new Date().toISOString() })).catch(onError);
      throw err instanceof Error ? err : new Error(messageOf(err));
    }
  }

  // One BullMQ worker per partition. The user's connection for the worker's commands (BullMQ
  // duplicates it for its blocking one, and closes only that): while Redis is away they wait in
  // its offline queue rather than fail.
  const workers = state.partitions.map(
    ({ prefix }) =>
      new Worker<DeliveryJobData, void, string>(queueName, runDelivery, {
        connection,
        prefix,
        concurrency,
        lockDuration: lockDurationMs,
        // A killed worker's deliveries are found by this check: as often as a lock can run out.
        stalledInterval: lockDurationMs,
        // A worker killed mid-delivery (a deploy, a crash) is not the delivery's fault: it may happen
        // as many times as the delivery has attempts before it is dead, not only once (BullMQ's default).
        maxStalledCount: state.options.attempts,
      }),
  );
  for (const worker of workers) {
    worker.on("error", onError);
    // The "failed" event, not the run's rejection: it also comes for a delivery that failed without a
    // run (one whose worker was killed too often), and only once the job is in the failed set.
    worker.on("failed", (job, err) => {
      if (!job || job.finishedOn === undefined || !onDead) return;
      try {
        onDead(deliveryOf(job), err, { ...runOf(job), lastAttempt: true });
      } catch (handlerError) {
        onError(handlerError);
      }
    });
    state.workers.add(worker);
  }
  try {
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  } catch (err) {
    for (const worker of workers) state.workers.delete(worker);
    await Promise.all(workers.map((worker) => worker.close(true).catch(() => {})));
    throw err;
  }
  return {
    async close({ timeoutMs = Infinity } = {}) {
      const closed = Promise.all(workers.map((worker) => worker.close()));
      const timer = timeoutMs < MAX_TIMER_MS ? setTimeout(leaving.leave, Math.max(0, timeoutMs)) : undefined;
      try {
        await closed;
      } finally {
        clearTimeout(timer);
      }
      for (const worker of workers) state.workers.delete(worker);
    },
  };
}

/** setTimeout fires at once past this: a longer wait is no deadline. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const LEFT = new Error("left active as the worker closed");

/**
 * What `close({ timeoutMs })` does at its deadline: the runs still active settle at once with
 * BullMQ's `WaitingError`, which BullMQ takes as a job its processor moved elsewhere and leaves be
 * while the worker closes (no attempt counted, no Redis command). The job stays active with a lock
 * no longer renewed, and once that runs out a worker's stalled check takes it again.
 */
function leaveActive(): { left: Promise<never>; leave: () => void } {
  let leave!: () => void;
  const left = new Promise<never>((_resolve, reject) => (leave = () => reject(LEFT)));
  left.catch(() => {}); // no run may be active when it is left
  return { left, leave };
}

/**
 * `attempt` counts the runs started, so a delivery taken over from a killed worker says it is its
 * second; `lastAttempt` follows BullMQ's own rule, which counts only failed runs.
 */
function runOf(job: DeliveryJob): DeliveryRun {
  return {
    attempt: Math.max(job.attemptsStarted, 1),
    replayed: (job.data.replays ?? 0) > 0,
    lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
  };
}
