// Deliveries of a chosen size for the benchmarks: crazyhorse's documented example, grown with more
// images and more params ("more params, more images"), as a real large delivery would be.
import { createHmac } from "node:crypto";

export const TOKEN = "bench-crazyhorse-secret";
export const OCTOKIT_SECRET = "bench-octokit-secret";

const HASH = "ced3e3051c203193952d8b51fe5c9d82";

/**
 * The body split around its `code`, so that a unique delivery costs the client one concatenation:
 * `head + code + tail`. The `code` is the idempotency key's unique part, so dedupe never
 * short-circuits. The code is of a fixed length (see uniqueCode), so every body has the same size.
 */
export function crazyhorseTemplate(targetBytes) {
  const images = [`${HASH}/job/generate-1.png`];
  const params = { hair: "red", clothes: "t-shirt, jean", number: 1 };
  const build = () =>
    JSON.stringify({
      image: `${HASH}/job.png`,
      generateImageUrls: images,
      params,
      createdAt: "2023-10-09T11:11:07.174Z",
    }).slice(1);
  const fixed = '{"code":"'.length + CODE_LENGTH + '","state":"DONE",'.length;
  // Grow one image and one param at a time, then pad the last param to land on the size exactly.
  let i = 1;
  while (fixed + build().length < targetBytes - 80) {
    images.push(`${HASH}/job/generate-${++i}.png`);
    params[`extra${i}`] = `value of parameter ${i}`;
  }
  const short = targetBytes - (fixed + build().length);
  if (short > 0) params.padding = "x".repeat(Math.max(0, short - '"padding":"",'.length));
  const tail = '","state":"DONE",' + build();
  return { head: '{"code":"', tail, bytes: fixed + build().length };
}

const CODE_LENGTH = 24;
let counter = 0;
const prefix = `${process.pid.toString(36)}${Date.now().toString(36)}`.padEnd(12, "0").slice(0, 12);
/** Unique within this process and across runs of it (the pid and the time prefix it). */
export function uniqueCode() {
  return prefix + (counter++).toString(36).padStart(CODE_LENGTH - 12, "0");
}

export function signGithub(body) {
  return `sha256=${createHmac("sha256", OCTOKIT_SECRET).update(body).digest("hex")}`;
}
