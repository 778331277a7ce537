import type { TrackedStatus } from "./store";

/** Each status as a small code, for typed arrays and Lua: 0 means nothing known. */
export const STATUS_CODES: Record<TrackedStatus, number> = { queued: 1, processing: 2, progress: 3, completed: 4, failed: 5 };
export const STATUS_OF_CODE: readonly (TrackedStatus | undefined)[] = [
  undefined,
  "queued",
  "processing",
  "progress",
  "completed",
  "failed",
];

/** How far along a code is: both final statuses are as far as a generation goes. */
export function rankOf(code: number): number {
  return code === STATUS_CODES.failed ? STATUS_CODES.completed : code;
}

/** Whether `code` with `images` moves a generation known at `knownCode` with `knownImages` forward. */
export function movesForward(code: number, images: number, knownCode: number, knownImages: number): boolean {
  const rank = rankOf(code);
  const knownRank = rankOf(knownCode);
  if (rank !== knownRank) return rank > knownRank;
  // The same status again moves it only while the generation is open and the delivery brings images.
  return rank < STATUS_CODES.completed && images > knownImages;
}
