#!/usr/bin/env node
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { isProviderName, providers } from "../providers/index";
import type { AnyProvider, Provider } from "../providers/provider";
import type { ProviderTesting } from "../providers/provider-testing";
import { printable, printableLines } from "../text/printable";
import { deliveriesCommand } from "./deliveries";
import { providerTesting, type TestingNeed } from "../entries/testing/provider-hooks";
import {
  bodySigner,
  playJob,
  sendDelivery,
  simulateJob,
  type SendOptions,
  type SentResponse,
  type SimulateJobOptions,
} from "../entries/testing/index";
import { UsageError } from "../errors/usage-error";
import { ed25519SchemeOf, ed25519Signer } from "../entries/testing/ed25519-signer";
import { keysCommand, readSigningKey } from "./private-key";

/** Exit codes: 0 every delivery accepted, 1 the receiver refused one or could not be reached, 2 a usage mistake. */
const REFUSED = 1;
const USAGE = 2;

/** What `send`'s `<event>` is for each provider, as the provider's module says it (else its known events). */
function eventsHelp(known: Known): string {
  const phrases = [...known.values()].map(
    (of) => of.cliEvents ?? `${of.name}'s events (${of.knownEvents.length > 0 ? `${of.knownEvents.join(", ")}, ...` : "any"})`,
  );
  const sentence = `<event> is ${new Intl.ListFormat("en", { type: "disjunction" }).format(phrases)}.`;
  // Wrapped at the width of the rest of the help, under the command's description.
  const lines: string[] = [];
  let line = "POST one valid delivery.";
  for (const word of sentence.split(" ")) {
    if (line.length + 1 + word.length > 90) {
      lines.push(line);
      line = word;
    } else line += ` ${word}`;
  }
  return [...lines, line].join("\n             ");
}

/** Whether its testing hooks play a whole job. */
function canSimulate(of: AnyProvider): boolean {
  try {
    return providerTesting(of, "help", "simulate") !== undefined;
  } catch {
    return false;
  }
}

const help = (known: Known) => `imagegen-webhooks: send test webhook deliveries of AI image-generation providers

Usage:
  imagegen-webhooks send <provider> <event> --url <url> (--secret <secret> | --signing-secret <whsec_...>) [--set field=value ...]
  imagegen-webhooks simulate <provider> --url <url> (--secret <secret> | --signing-secret <whsec_...>) [options]
  imagegen-webhooks send|simulate fal|ideogram ... --url <url> --private-key <file> --user-id <id>
  imagegen-webhooks keys --private-key <file>
  imagegen-webhooks schema <provider>
  imagegen-webhooks deliveries list|show|replay --redis <url> [options]   (deliveries --help)

Providers: ${[...known.keys()].join(", ")} (simulate: ${[...known.values()]
  .filter(canSimulate)
  .map((of) => of.name)
  .join(", ")})

Commands:
  send       ${eventsHelp(known)}
  simulate   Play a whole job, delivery by delivery at the provider's pace: created, active,
             progress, completed (or failed), sometimes with a retried delivery.
  keys       Print the public key set (JWKS) of the Ed25519 key in <file>, for the receiver's
             providers.fal.jwks (or ideogram's); with no such file, make a new key there first.
  schema     Print the provider's JSON Schema.
  deliveries The durable inbox's deliveries in Redis: list, show one, replay one.

Options:
  --url <url>          the receiver's URL for this provider, e.g. http://localhost:3000/webhooks/crazyhorse
  --secret <secret>    the token, sent where the provider sends it: X-Webhook-Token, or for Leonardo
                       Authorization: Bearer (--token-in query: as ?token=)
  --token-in <where>   header, query or bearer (Authorization: Bearer)
  --signing-secret <s> sign the deliveries as the provider does: the Standard Webhooks way with a
                       whsec_ secret (Replicate), X-BFL-Signature with BFL's webhook_secret (with
                       --secret too, both are sent)
  --private-key <file> sign as a provider that signs with Ed25519 does (${ed25519Names(known)}): a
                       PEM private key (openssl genpkey -algorithm ed25519) or a JWK with "d"; the
                       receiver's jwks must hold its public half (keys prints it), under the key id
                       Ideogram names: the JWK's kid, else the key's RFC 7638 thumbprint
  --user-id <id>       with --private-key: the account the deliveries name (X-Fal-Webhook-User-Id),
                       the receiver's userId
  --set <field=value>  send: set a field of the body; a dotted path reaches inside (data.prompt=...),
                       a value that reads as JSON is taken as JSON (params.number=2), else as text
  --any-event          send: an event the provider does not list (a new state, to test how the
                       receiver takes it); without it, an unknown event is refused as a typo
  --fail               simulate: the job fails partway
  --retry              simulate: the provider sends one delivery twice
  --no-retry           simulate: never a retry
  --seed <n>           simulate: the same seed plays the same job
  --image-base-url <u> simulate: where the images' absolute URLs point (a provider that sends
                       relative paths leaves them to the receiver's imageBaseUrl)
  --speed <x>          simulate: 1 is the provider's pace (default), 10 ten times faster, 0 no wait
  --dry-run            send, simulate: print the deliveries as JSON instead of sending them
  --custom-providers <module>
                       providers of your own (what defineProvider() returns, with its testing
                       hooks) exported by this JavaScript module, to send, simulate and print like
                       the built-in ones; may be given more than once
  -h, --help           this help
  -v, --version        the package's version

Exit status: 0 when every delivery was accepted (2xx), 1 when the receiver refused one or could not
be reached, 2 for a mistake in the command.

Examples:
  imagegen-webhooks send crazyhorse DONE --url http://localhost:3000/webhooks/crazyhorse --secret demo-crazyhorse-secret
  imagegen-webhooks send all-images print.completed --url http://localhost:3000/webhooks/all-images \\
    --secret demo-all-images-secret --set data.prompt="a red fox in fresh snow"
  imagegen-webhooks simulate all-images --url http://localhost:3000/webhooks/all-images --secret demo-all-images-secret
  imagegen-webhooks simulate replicate --url http://localhost:3000/webhooks/replicate \\
    --signing-secret whsec_aW1hZ2VnZW4td2ViaG9va3MgZGVtbyByZXBsaWNhdGU=
  imagegen-webhooks keys --private-key fal-test-key.pem > fal-test-jwks.json
  imagegen-webhooks send fal OK --url http://localhost:3000/webhooks/fal --private-key fal-test-key.pem --user-id my-fal-user
  imagegen-webhooks schema crazyhorse > crazyhorse.schema.json
`;

/** The providers that sign with Ed25519, which --private-key is for. */
function ed25519Names(known: Known): string {
  return [...known.values()]
    .filter((of) => ed25519SchemeOf(of) !== undefined)
    .map((of) => of.name)
    .join(", ");
}

const OPTIONS = {
  url: { type: "string" },
  secret: { type: "string" },
  "token-in": { type: "string" },
  "signing-secret": { type: "string" },
  set: { type: "string", multiple: true },
  "any-event": { type: "boolean" },
  fail: { type: "boolean" },
  retry: { type: "boolean" },
  "no-retry": { type: "boolean" },
  seed: { type: "string" },
  "image-base-url": { type: "string" },
  speed: { type: "string" },
  "dry-run": { type: "boolean" },
  "custom-providers": { type: "string", multiple: true },
  "private-key": { type: "string" },
  "user-id": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} satisfies ParseArgsConfig["options"];

type Values = ReturnType<typeof parse>["values"];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs names the option it did not know ("Unknown option '--ur'"), not the ones it knows.
    const { code, message } = err as { code?: string; message: string };
    const unknown = /'([^']+)'/.exec(message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== undefined) {
      throw new UsageError(`unknown option ${unknown}: the options are ${FLAGS}`);
    }
    throw new UsageError(message);
  }
}

/** Every flag, as --help spells them. */
const FLAGS = Object.entries(OPTIONS)
  .map(([name, option]) => `--${name}${"short" in option ? ` (-${option.short})` : ""}`)
  .join(", ");

/** The built-in providers and the user's own, by name. */
type Known = ReadonlyMap<string, AnyProvider>;

function provider(name: string | undefined, known: Known): AnyProvider {
  const names = [...known.keys()].join(", ");
  if (name === undefined) throw new UsageError(`name a provider: ${names}`);
  const found = known.get(name);
  if (found === undefined) {
    throw new UsageError(`unknown provider "${name}": the providers are ${names} (for one of your own, --custom-providers <module>)`);
  }
  return found;
}

/** The provider's testing hooks; without them, a usage error that says what to add. */
function hooks(of: AnyProvider, command: string, need: TestingNeed): ProviderTesting<unknown> {
  try {
    return providerTesting(of, command, need).testing;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A provider as `createWebhooks` tells one: what `defineProvider` returns. */
function isProvider(value: unknown): value is AnyProvider {
  const { name, normalize, authentication } = (typeof value === "object" && value !== null ? value : {}) as Partial<AnyProvider>;
  return typeof name === "string" && typeof normalize === "function" && Array.isArray(authentication);
}

/** The providers a `--custom-providers` module exports: as named exports, its default export, or arrays of them. */
async function loadProviders(specifier: string): Promise<AnyProvider[]> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(specifier)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--custom-providers ${specifier}: cannot load it: ${(err as Error).message}`);
  }
  const { default: defaultExport, ...named } = module;
  const candidates: unknown[] = [...Object.values(named), defaultExport];
  // A CommonJS module's exports come as its default export too.
  if (typeof defaultExport === "object" && defaultExport !== null && !isProvider(defaultExport)) {
    candidates.push(...(Object.values(defaultExport) as unknown[]));
  }
  const found = new Set(
    candidates.flatMap((value): unknown[] => (Array.isArray(value) ? (value as unknown[]) : [value])).filter(isProvider),
  );
  if (found.size === 0) {
    throw new UsageError(`--custom-providers ${specifier}: it exports no provider: export what defineProvider() returns`);
  }
  return [...found];
}

async function knownProviders(values: Values, given: readonly AnyProvider[]): Promise<Known> {
  const known = new Map<string, AnyProvider>(Object.entries(providers));
  const loaded = await Promise.all((values["custom-providers"] ?? []).map(loadProviders));
  for (const custom of [...given, ...loaded.flat()]) {
    const other = known.get(custom.name);
    if (other !== undefined && other !== custom) {
      const clash = isProviderName(custom.name) ? "built in" : "given twice";
      throw new UsageError(`a provider named "${custom.name}" is ${clash}: give yours another name`);
    }
    known.set(custom.name, custom);
  }
  return known;
}

function target(
  values: Values,
  testing: { tokenIn?: "header" | "query" | "bearer" },
): { url: string; secret?: string; tokenIn?: "header" | "query" | "bearer"; signingSecret?: string } {
  if (values.url === undefined)
    throw new UsageError("--url is required: the receiver's URL, e.g. http://localhost:3000/webhooks/crazyhorse");
  const url = absoluteUrl(values.url, "--url");
  const tokenIn = values["token-in"] ?? testing.tokenIn;
  if (tokenIn !== undefined && tokenIn !== "header" && tokenIn !== "query" && tokenIn !== "bearer")
    throw new UsageError("--token-in is header, query or bearer");
  const signingSecret = values["signing-secret"];
  if (values.secret === undefined && signingSecret === undefined && values["private-key"] === undefined) {
    throw new UsageError(
      "--secret is required: the token the receiver expects (its provider secret); or --signing-secret for a signed provider",
    );
  }
  return {
    url,
    ...(values.secret !== undefined && { secret: values.secret }),
    ...(tokenIn && { tokenIn }),
    ...(signingSecret !== undefined && { signingSecret }),
  };
}

function absoluteUrl(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${option} "${value}" is not a URL: give an absolute http(s) URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`${option} must be http or https, not ${url.protocol}`);
  return url.href;
}

/** `data.prompt=a fox` sets body.data.prompt to "a fox"; `params.number=2` sets a number. */
function applySet(body: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf("=");
  if (eq <= 0) throw new UsageError(`--set takes field=value, not "${assignment}"`);
  const path = assignment.slice(0, eq).split(".");
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  let object = body;
  for (const [i, key] of path.entries()) {
    if (key === "" || key === "__proto__" || key === "constructor" || key === "prototype") {
      throw new UsageError(`--set ${assignment}: "${path.join(".")}" is not a field path`);
    }
    if (i === path.length - 1) object[key] = value;
    else {
      const next = object[key];
      if (typeof next !== "object" || next === null || Array.isArray(next)) object[key] = {};
      object = object[key] as Record<string, unknown>;
    }
  }
}

const LINE_MAX = 160;

/**
 * The status and what the receiver said: a JSON answer (a problem document) as it came, else one
 * line of it, since an HTML error page printed whole buries the status.
 */
function describe(response: SentResponse): string {
  const type = response.headers.get("content-type") ?? "";
  let text = response.body;
  if (!/[/+]json\b/i.test(type)) {
    if (/html/i.test(type) || /^\s*</.test(text)) {
      text = text
        .replace(/<(head|script|style)[\s\S]*?<\/\1>/gi, " ")
        .replace(/<[^>]*>/g, " ")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&amp;/g, "&");
    }
    text = text.replace(/\s+/g, " ").trim();
    if (text.length > LINE_MAX) text = `${text.slice(0, LINE_MAX)}…`;
  } else if (text.length > 300) text = `${text.slice(0, 300)}…`;
  // The receiver's words, printed to a terminal: a control character in them is escaped, not obeyed.
  return `${response.status}${text ? ` ${printableLines(text)}` : ""}`;
}

/** How `--signing-secret` signs for this provider: the HMAC of the body it declares, else Standard Webhooks. */
function signedAs(chosen: AnyProvider, signingSecret: string | undefined): Pick<SendOptions, "sign" | "signature"> {
  if (signingSecret === undefined) return {};
  const sign = bodySigner(chosen, signingSecret);
  return sign ? { sign } : { signature: { secret: signingSecret } };
}

/**
 * For a provider that signs with Ed25519: the signer `--private-key` and `--user-id` make, checked
 * before anything is sent. Undefined for the others, which must not be given `--private-key`.
 */
async function ed25519Signing(chosen: AnyProvider, values: Values, known: Known): Promise<SendOptions["sign"]> {
  const { name } = chosen;
  const scheme = ed25519SchemeOf(chosen);
  const file = values["private-key"];
  if (scheme === undefined) {
    const option = file !== undefined ? "--private-key" : values["user-id"] !== undefined ? "--user-id" : undefined;
    if (option === undefined) return undefined;
    throw new UsageError(`${option} is for a provider that signs with Ed25519 (${ed25519Names(known)}): ${name} does not`);
  }
  if (file === undefined) {
    throw new UsageError(
      `${name} signs its deliveries with Ed25519: give --private-key <file> (imagegen-webhooks keys --private-key <file> makes one and prints the jwks to give the receiver)`,
    );
  }
  if (values["signing-secret"] !== undefined) {
    throw new UsageError(`${name} signs with an Ed25519 key, not a shared secret: give --private-key <file>, not --signing-secret`);
  }
  const { userIdHeader } = scheme.definition;
  const userId = values["user-id"];
  if (userIdHeader !== undefined && (userId === undefined || userId === "")) {
    throw new UsageError(
      `--user-id is required for ${name}: the account its deliveries name (${userIdHeader}), the receiver's providers.${name}.userId`,
    );
  }
  const { privateKey, kid } = await readSigningKey(file);
  try {
    return ed25519Signer(chosen, { privateKey, kid, ...(userId !== undefined && { userId }) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A 401 from a provider that signs: the likely cause, said. */
function authHint(chosen: AnyProvider, response: SentResponse, signed: boolean, values: Values): string {
  if (response.status !== 401) return "";
  const { name } = chosen;
  if (values["private-key"] !== undefined) {
    if (/auth\.wrong-account/.test(response.body)) {
      return `\nhint: the receiver's providers.${name}.userId is not --user-id ${printable(values["user-id"] ?? "")}: give the account it expects\n`;
    }
    return (
      `\nhint: the receiver's providers.${name}.jwks must hold the public half of ${printable(values["private-key"])}: ` +
      `imagegen-webhooks keys --private-key ${printable(values["private-key"])} prints it (without jwks, the receiver checks ${name}'s own keys)\n`
    );
  }
  if (signed || chosen.authentication[0] !== "signature") return "";
  return `\nhint: ${name} signs its deliveries: a receiver set up with providers.${name}.signature needs --signing-secret <whsec_...>\n`;
}

/** The event, checked against the ones the provider lists: a typo would otherwise be sent, and accepted as an unknown event. */
function checkEvent(chosen: AnyProvider, event: string, body: Record<string, unknown>, values: Values): void {
  if (values["any-event"] || chosen.knownEvents.length === 0) return;
  let name: string;
  try {
    name = String(chosen.eventName(body));
  } catch {
    name = event;
  }
  if (chosen.knownEvents.includes(name)) return;
  throw new UsageError(
    `unknown event "${event}" for ${chosen.name}: the events are ${chosen.knownEvents.join(", ")} (--any-event sends it all the same)`,
  );
}

const accepted = (response: SentResponse) => response.status >= 200 && response.status <= 299;

async function send(positionals: string[], values: Values, known: Known, out: NodeJS.WritableStream): Promise<number> {
  const chosen = provider(positionals[0], known);
  const { name } = chosen;
  const testing = hooks(chosen, "send", "example");
  const { eventField } = testing;
  const example = (overrides: Record<string, unknown>) => testing.example(overrides);
  const event = positionals[1];
  if (event === undefined || event === "") {
    const sample = (example({}) as Record<string, unknown>)[eventField];
    throw new UsageError(`name the event: the value of ${name}'s "${eventField}" field, e.g. ${String(sample)}`);
  }
  const body = example({ [eventField]: event }) as Record<string, unknown>;
  for (const assignment of values.set ?? []) applySet(body, assignment);
  checkEvent(chosen, event, body, values);
  if (values["dry-run"]) {
    out.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  const ed25519 = await ed25519Signing(chosen, values, known);
  const { url, signingSecret, ...auth } = target(values, testing);
  const signed = ed25519 ? { sign: ed25519 } : signedAs(chosen, signingSecret);
  const response = await sendDelivery(url, { body, ...auth, ...signed });
  out.write(`POST ${url} ${name} ${event}: ${describe(response)}\n${authHint(chosen, response, signingSecret !== undefined, values)}`);
  return accepted(response) ? 0 : REFUSED;
}

function number(values: Values, option: "seed" | "speed"): number | undefined {
  const raw = values[option];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < 0)
    throw new UsageError(`--${option} takes a number of 0 or more, not "${raw}"`);
  return value;
}

async function simulate(positionals: string[], values: Values, known: Known, out: NodeJS.WritableStream): Promise<number> {
  const chosen = provider(positionals[0], known);
  const { name } = chosen;
  const testing = hooks(chosen, "simulate", "simulate");
  if (values.retry && values["no-retry"]) throw new UsageError("--retry and --no-retry cannot both be given");
  const seed = number(values, "seed");
  const speed = number(values, "speed") ?? 1;
  const options: SimulateJobOptions = {
    ...(values.fail && { outcome: "failed" }),
    ...(values.retry && { retry: true }),
    ...(values["no-retry"] && { retry: false }),
    ...(seed !== undefined && { seed }),
    ...(values["image-base-url"] !== undefined && { imageBaseUrl: absoluteUrl(values["image-base-url"], "--image-base-url") }),
  };
  const job = simulateJob(chosen as Provider<string, unknown, Record<string, unknown>>, options);
  if (values["dry-run"]) {
    out.write(`${JSON.stringify(job, null, 2)}\n`);
    return 0;
  }
  const ed25519 = await ed25519Signing(chosen, values, known);
  const { url, signingSecret, ...auth } = target(values, testing);
  const signed = ed25519 ? { sign: ed25519 } : signedAs(chosen, signingSecret);
  out.write(`simulating ${name} job ${job.id} (${job.outcome}, ${job.deliveries.length} deliveries) to ${url}\n`);
  const played = await playJob(job, {
    url,
    ...auth,
    ...("sign" in signed ? signed : signingSecret !== undefined && { signingSecret }),
    timeScale: speed === 0 ? 0 : 1 / speed,
    onDelivery: (delivery, response) => {
      out.write(`  ${delivery.event}${delivery.retry ? " (retry)" : ""}: ${describe(response)}\n`);
    },
  });
  const refused = played.find(({ response }) => !accepted(response));
  if (refused) {
    out.write(
      `stopped: the receiver refused ${refused.delivery.event} with ${refused.response.status}\n` +
        authHint(chosen, refused.response, signingSecret !== undefined, values).trimStart(),
    );
    return REFUSED;
  }
  return 0;
}

function schema(positionals: string[], known: Known, out: NodeJS.WritableStream): number {
  out.write(`${JSON.stringify(provider(positionals[0], known).schema, null, 2)}\n`);
  return 0;
}

function version(): string {
  // dist/cli/index.js and lib/cli/index.ts are both two levels below the package root.
  return (require("../../package.json") as { version: string }).version;
}

/** What a program that runs the CLI in its own process can give it beside the arguments. */
export interface CliOptions {
  /** Providers of the user's own, as `--custom-providers` would load them. */
  customProviders?: readonly AnyProvider[];
  /** Where notes beside the output go (`keys` saying it wrote a new key); default the process's stderr. */
  notes?: NodeJS.WritableStream;
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, options: CliOptions = {}): Promise<number> {
  // Its own options and its own errors: see deliveries.ts.
  if (argv[0] === "deliveries") return deliveriesCommand(argv.slice(1), out);
  const { values, positionals } = parse(argv);
  const [command, ...rest] = positionals;
  if (values.version) {
    out.write(`${version()}\n`);
    return 0;
  }
  const known = () => knownProviders(values, options.customProviders ?? []);
  if (values.help || command === "help") {
    out.write(help(await known()));
    return 0;
  }
  switch (command) {
    case "send":
      return send(rest, values, await known(), out);
    case "simulate":
      return simulate(rest, values, await known(), out);
    case "schema":
      return schema(rest, await known(), out);
    case "keys":
      return keysCommand(values["private-key"], out, options.notes ?? process.stderr);
    case undefined:
      throw new UsageError("name a command: send, simulate, keys, schema or deliveries");
    default:
      throw new UsageError(`unknown command "${command}": the commands are send, simulate, keys, schema and deliveries`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`imagegen-webhooks: ${err.message}\nRun imagegen-webhooks --help for the usage.\n`);
        process.exitCode = USAGE;
      } else {
        // A network failure: fetch hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, ...).
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const detail = cause?.code ?? cause?.message ?? (err as Error).message;
        const message = (err as Error).message;
        process.stderr.write(
          `imagegen-webhooks: could not deliver: ${printable(message)}${detail && detail !== message ? ` (${printable(detail)})` : ""}\n`,
        );
        process.exitCode = REFUSED;
      }
    },
  );
}
