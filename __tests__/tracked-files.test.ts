/**
 * The copy of the tracked files that the package test packs: it must hold on the first `npm test`
 * after the README's `npm install`, which rewrites package-lock.json unchanged and so leaves a
 * tracked file touched but not modified (git 2.39's `git stash create` exits 1 on that).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyTrackedFiles } from "./helpers/tracked-files";

let work: string;
let repo: string;

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
    cwd: repo,
    encoding: "utf8",
  });
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "imagegen-webhooks-tracked-"));
  repo = join(work, "repo");
  mkdirSync(join(repo, "lib"), { recursive: true });
  git("init", "--quiet");
  writeFileSync(join(repo, "package-lock.json"), '{"lockfileVersion":3}\n');
  writeFileSync(join(repo, "lib", "index.ts"), "export const a = 1;\n");
  writeFileSync(join(repo, "gone.txt"), "deleted in the working tree\n");
  git("add", ".");
  git("commit", "--quiet", "-m", "first");
});

afterEach(() => rmSync(work, { recursive: true, force: true }));

test("a tracked file touched but not changed (as npm install leaves package-lock.json) is copied, and nothing fails", () => {
  // The stat change without a content change, as `npm install` or an editor's save makes it.
  utimesSync(join(repo, "package-lock.json"), new Date("2020-01-01"), new Date("2020-01-01"));
  const destination = join(work, "copy");
  const copied = copyTrackedFiles(repo, destination);
  expect(copied.sort()).toEqual(["gone.txt", "lib/index.ts", "package-lock.json"]);
  expect(readFileSync(join(destination, "package-lock.json"), "utf8")).toBe('{"lockfileVersion":3}\n');
});

test("the working tree's edits are copied as they are, a deleted tracked file is left out, an untracked file is not copied", () => {
  writeFileSync(join(repo, "lib", "index.ts"), "export const a = 2;\n");
  unlinkSync(join(repo, "gone.txt"));
  writeFileSync(join(repo, "untracked.txt"), "not in git\n");
  const destination = join(work, "copy");
  copyTrackedFiles(repo, destination);
  expect(readFileSync(join(destination, "lib", "index.ts"), "utf8")).toBe("export const a = 2;\n");
  expect(existsSync(join(destination, "gone.txt"))).toBe(false);
  expect(existsSync(join(destination, "untracked.txt"))).toBe(false);
});

test("a file added to the index but not committed yet is copied", () => {
  writeFileSync(join(repo, "lib", "new.ts"), "export const b = 1;\n");
  git("add", "lib/new.ts");
  const destination = join(work, "copy");
  expect(copyTrackedFiles(repo, destination)).toContain("lib/new.ts");
  expect(readFileSync(join(destination, "lib", "new.ts"), "utf8")).toBe("export const b = 1;\n");
});
