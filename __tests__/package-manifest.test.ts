/** package.json's words, as npm's search and a registry page show them, keep up with the code. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { providers } from "../lib/providers/index";

const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { description: string };

test("the description names every built-in provider", () => {
  expect(Object.keys(providers).filter((name) => !pkg.description.toLowerCase().includes(name))).toEqual([]);
});
