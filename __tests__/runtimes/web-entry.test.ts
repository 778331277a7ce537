/**
 * The web entry's module graph holds no Node built-in: bundled for the browser platform, where
 * esbuild fails on a `node:` import (as it does for the main entry). workers.test.ts runs that bundle.
 */
import * as main from "../../lib/entries/index";
import * as web from "../../lib/entries/web";
import { bundle } from "./bundle";

test("the web entry bundles for the browser with no Node built-in in its module graph, everything it exports included", async () => {
  const { inputs } = await bundle("web", 'export * from "imagegen-webhooks";');
  expect(inputs.filter((input) => input.startsWith("node:") || /(^|\/)node_modules\/body-parser\//.test(input))).toEqual([]);
  // The EventEmitter is the `events` package here, where Node's own is absent.
  expect(inputs.some((input) => input.includes("node_modules/events/"))).toBe(true);
  // allowedIps is matched by ipaddr.js here, where node:net is absent.
  expect(inputs.some((input) => input.includes("node_modules/ipaddr.js/"))).toBe(true);
  expect(inputs.some((input) => input.endsWith("lib/platform/node-allow-list.ts"))).toBe(false);
  expect(inputs.some((input) => input.endsWith("lib/crypto/node-crypto.ts"))).toBe(false);
});

test("the main entry, by contrast, does not bundle for the browser: the check has teeth", async () => {
  await expect(bundle("main", 'export { createWebhooks } from "imagegen-webhooks";', "browser")).rejects.toThrow(/node:/);
});

test("the web entry exports every value the main entry does, but those that need Node (keepImages' store and error)", () => {
  const onlyOnNode = ["directoryImageStore", "ImageKeepError"];
  expect(Object.keys(main).filter((name) => !(name in web))).toEqual(onlyOnNode);
  expect(Object.keys(web).filter((name) => !(name in main))).toEqual([]);
  expect(web.createWebhooks).not.toBe(main.createWebhooks);
});
