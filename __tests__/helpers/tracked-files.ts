// A copy of a repository's tracked files as they are in its working tree (edits not yet committed
// included, files git does not track left out), for the tests that must see what a fresh clone holds.
// It reads the file list with `git ls-files` and never asks git to make a commit of the working tree:
// `git stash create` exits 1 with no output when a tracked file was touched but not changed (git
// 2.39, after `npm install` rewrites package-lock.json as it was), which failed the first `npm test`.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";

/** Copies every file `git ls-files` lists under `root` (as the working tree has it) into `destination`. */
export function copyTrackedFiles(root: string, destination: string): string[] {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached"], { cwd: root, encoding: "utf8" });
  const files = [...new Set(listed.split("\0").filter(Boolean))];
  const copied: string[] = [];
  for (const file of files) {
    const from = join(root, file);
    // A tracked file deleted in the working tree is gone from the clone too, as a commit of the tree would have it.
    if (!existsSync(from) && !isSymlink(from)) continue;
    const to = join(destination, file);
    mkdirSync(dirname(to), { recursive: true });
    if (isSymlink(from)) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
    copied.push(file);
  }
  return copied;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
