/**
 * The project's Markdown as the tests read it: the pages a newcomer follows (README.md, the guides
 * in docs/, CONTRIBUTING.md, SECURITY.md, bench/README.md), their fenced blocks, their relative
 * links, their headings' anchors (as GitHub makes them) and their tables.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const root = join(__dirname, "..", "..");

/** The pages, by their path from the repository's root: README.md first, then the guides. */
export function markdownPages(): string[] {
  const guides = readdirSync(join(root, "docs"))
    .filter((file) => file.endsWith(".md"))
    .sort()
    .map((file) => `docs/${file}`);
  return ["README.md", ...guides, "CONTRIBUTING.md", "SECURITY.md", "bench/README.md"].filter((page) => existsSync(join(root, page)));
}

/** The guides alone: docs/*.md. */
export function guidePages(): string[] {
  return markdownPages().filter((page) => page.startsWith("docs/"));
}

export function readPage(page: string): string {
  return readFileSync(join(root, page), "utf8");
}

/** A fenced block: its language, its text, and the line of its first line of code. */
export interface Block {
  lang: string;
  code: string;
  line: number;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w-]*)/;

/** Fences of three or more backticks or tildes, indented or not, closed by the same fence; an unclosed one ends the file. */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? "");
    if (!open) continue;
    const fence = open[1] as string;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !(lines[end] ?? "").trim().startsWith(fence)) end++;
    blocks.push({ lang: (open[2] ?? "").toLowerCase(), code: lines.slice(start, end).join("\n"), line: start + 1 });
    i = end;
  }
  return blocks;
}

/** The page's lines outside fenced blocks, each with its line number; fenced lines are left out. */
export function proseLines(markdown: string): { text: string; line: number }[] {
  const lines = markdown.split("\n");
  const prose: { text: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? "");
    if (open) {
      const fence = open[1] as string;
      i++;
      while (i < lines.length && !(lines[i] ?? "").trim().startsWith(fence)) i++;
      continue;
    }
    prose.push({ text: lines[i] ?? "", line: i + 1 });
  }
  return prose;
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor of the page's headings; a repeated heading gets `-1`, `-2`… as on GitHub. */
export function anchors(markdown: string): Set<string> {
  return new Set(headings(markdown).keys());
}

/** The page's headings by their anchor: the heading's text as written. */
export function headings(markdown: string): Map<string, string> {
  const seen = new Map<string, number>();
  const result = new Map<string, string>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const base = slug(heading[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.set(count === 0 ? base : `${base}-${count}`, heading[1] as string);
  }
  return result;
}

/** A link of the page: its target as written, and its line. */
export interface Link {
  target: string;
  line: number;
}

/** The inline links and images of the page's prose (not inside code), with their targets. */
export function links(markdown: string): Link[] {
  const found: Link[] = [];
  for (const { text, line } of proseLines(markdown)) {
    const withoutCode = text.replace(/(`+)[^`]*?\1/g, "");
    for (const match of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ target: match[1] as string, line });
    }
  }
  return found;
}

/** A table of the page: the first cell of each row below its header, and the line of its header. */
export interface Table {
  header: string[];
  firstCells: string[];
  line: number;
}

/** The table that starts on the line after `marker` (a comment such as `<!-- options: WebhooksOptions -->`), or undefined. */
export function tablesAfterMarkers(markdown: string, marker: RegExp): { name: string; table: Table | undefined; line: number }[] {
  const lines = markdown.split("\n");
  const found: { name: string; table: Table | undefined; line: number }[] = [];
  lines.forEach((text, index) => {
    const match = marker.exec(text);
    if (!match) return;
    let start = index + 1;
    while (start < lines.length && (lines[start] ?? "").trim() === "") start++;
    const cells = (row: string) =>
      row
        .trim()
        .replace(/^\|/, "")
        .replace(/\|$/, "")
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim());
    if (!(lines[start] ?? "").trim().startsWith("|")) {
      found.push({ name: match[1] as string, table: undefined, line: index + 1 });
      return;
    }
    const header = cells(lines[start] as string);
    const firstCells: string[] = [];
    for (let row = start + 2; row < lines.length && (lines[row] ?? "").trim().startsWith("|"); row++) {
      firstCells.push(cells(lines[row] as string)[0] ?? "");
    }
    found.push({ name: match[1] as string, table: { header, firstCells, line: start + 1 }, line: index + 1 });
  });
  return found;
}
