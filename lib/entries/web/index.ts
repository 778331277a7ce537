// `imagegen-webhooks/web`: the receiver for runtimes with web APIs only (Cloudflare Workers, Vercel's
// edge, Deno Deploy, a browser's service worker). The same `Webhooks` class as the main entry, with
// Web Crypto instead of node:crypto; it answers through `webhooks.fetch(request)`. Its module graph
// imports nothing from `node:` (__tests__/runtimes/web-entry.test.ts bundles it for the browser).
import { webPlatform } from "../../platform/web";
import { createWebhooksFor } from "../../webhooks/webhooks";

/**
 * Creates a receiver that needs web APIs only. Every option is checked here, as in the main
 * entry's `createWebhooks`; `keepImages`, which needs node:http, is refused. `allowedIps` means
 * what it means on Node, but a web Request carries no address: pass the sender's as
 * `webhooks.fetch(request, { ip })`, or every delivery to that provider is refused `403`.
 * On Cloudflare Workers, call it at the module's top level: the schemas are compiled to code at
 * start-up, which Workers allow only then.
 */
export const createWebhooks = createWebhooksFor(webPlatform);

export * from "../shared-exports";
