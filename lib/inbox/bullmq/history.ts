import type { JobState } from "bullmq";
import type { DeliveryDetail, DeliveryFilter, DeliveryStatus, DeliverySummary } from "../inbox";
import { attemptErrorsOf, jobIdOf, lastChangeOf, statesOf, statusOf, summaryOf, type DeliveryJob } from "./jobs";
import { partitionOf } from "./partitions";
import type { BullmqInboxState, Partition } from "./state";

const DEFAULT_LIMIT = 50;
/** Jobs read per round trip while a provider filter skips some. */
const PAGE = 100;

/**
 * Each BullMQ set of each partition is read newest first, a page at a time, until it has given
 * `limit` matches; the sets' lines are then merged by when each delivery last changed.
 */
export async function list(state: BullmqInboxState, filter: DeliveryFilter = {}): Promise<DeliverySummary[]> {
  const { status, provider, limit = DEFAULT_LIMIT } = filter;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError(`list: limit must be a whole number ≥ 1, got ${String(limit)}`);
  const sets = state.partitions.flatMap(({ queue }) => statesOf(status).map((jobState) => ({ queue, jobState })));
  const perState = await Promise.all(
    sets.map(async ({ queue, jobState }) => {
      const found: { job: DeliveryJob; summary: DeliverySummary }[] = [];
      const page = provider === undefined ? limit : Math.max(limit, PAGE);
      for (let start = 0; found.length < limit; start += page) {
        const jobs = (await queue.getJobs([jobState], start, start + page - 1, false)) as DeliveryJob[];
        for (const job of jobs) {
          // A job removed between the listing and its read comes back empty.
          if (!job?.data || (provider !== undefined && job.data.provider !== provider)) continue;
          const jobStatus = statusOf(jobState, job);
          if (jobStatus === undefined || (status !== undefined && jobStatus !== status)) continue;
          found.push({ job, summary: summaryOf(job, jobStatus) });
        }
        if (jobs.length < page) break;
      }
      return found.slice(0, limit);
    }),
  );
  return perState
    .flat()
    .sort((a, b) => lastChangeOf(b.job) - lastChangeOf(a.job))
    .slice(0, limit)
    .map(({ summary }) => summary);
}

/** The queue that holds a key's delivery, if it is anywhere. */
function queueOf(state: BullmqInboxState, key: string) {
  return (state.partitions[partitionOf(key, state.partitions.length)] as Partition).queue;
}

const MAX_REREADS = 32;

export async function get(state: BullmqInboxState, key: string): Promise<DeliveryDetail | undefined> {
  const jobId = jobIdOf(key);
  const queue = queueOf(state, key);
  // The job and its state are two reads: a run that ends between them would give a finished state
  // with the job as it was before (its attempts or its error not yet counted). The state is read on
  // both sides of the job, and the job again until one state held across its read. A delivery whose
  // attempts fail fast moves through several states in a few milliseconds, so the bound is generous:
  // each retry is a real step of the job, and there are at most a few per attempt.
  let before = await queue.getJobState(jobId);
  for (let tries = 0; ; tries++) {
    const job = await queue.getJob(jobId);
    if (!job) return undefined;
    const [jobState, { logs }] = await Promise.all([job.getState(), queue.getJobLogs(jobId)]);
    if (jobState !== before && tries < MAX_REREADS) {
      before = jobState;
      continue;
    }
    return detailOf(job, jobState, logs);
  }
}

function detailOf(job: DeliveryJob, jobState: JobState | "unknown", logs: string[]): DeliveryDetail | undefined {
  const status = statusOf(jobState, job);
  // Removed between the two reads (its retention ran out): as if it had gone a moment earlier.
  if (status === undefined) return undefined;
  return { ...summaryOf(job, status), payload: job.data.payload, errors: attemptErrorsOf(logs) };
}

/**
 * Marks the job replayed, then moves it back to the wait list with its attempts reset (BullMQ's
 * `retry`). Two steps: should the second fail, the job stays finished but says it was replayed,
 * and a second `replay()` runs it.
 */
export async function replay(state: BullmqInboxState, key: string): Promise<boolean> {
  const job = await queueOf(state, key).getJob(jobIdOf(key));
  if (!job) return false;
  const jobState = await job.getState();
  if (jobState !== "completed" && jobState !== "failed") {
    const status = statusOf(jobState, job);
    if (status === undefined) return false;
    throw new Error(`imagegen-webhooks: delivery ${key} is ${status}; only a completed or dead delivery can be replayed`);
  }
  await job.updateData({ ...job.data, replays: (job.data.replays ?? 0) + 1 });
  await job.retry(jobState, { resetAttemptsMade: true, resetAttemptsStarted: true });
  return true;
}

/**
 * How many deliveries are in each status, in one round trip per partition (BullMQ's counts of its
 * sets), summed over the partitions. A job
 * back in the wait list for a retry without backoff counts as queued here: telling it apart would
 * read every waiting job.
 */
export async function counts(state: BullmqInboxState): Promise<Record<DeliveryStatus, number>> {
  const all = await Promise.all(
    state.partitions.map(({ queue }) => queue.getJobCounts("waiting", "prioritized", "active", "delayed", "completed", "failed")),
  );
  const total: Record<DeliveryStatus, number> = { queued: 0, active: 0, retrying: 0, completed: 0, dead: 0 };
  for (const n of all) {
    total.queued += (n.waiting ?? 0) + (n.prioritized ?? 0);
    total.active += n.active ?? 0;
    total.retrying += n.delayed ?? 0;
    total.completed += n.completed ?? 0;
    total.dead += n.failed ?? 0;
  }
  return total;
}
