import { parseArgs } from "node:util";
import type { Cluster, Redis } from "ioredis";
import type { DeliveryDetail, DeliveryStatus, DeliverySummary, Inbox } from "../inbox/inbox";
import { printable, printableLines } from "../text/printable";
import { UsageError } from "../errors/usage-error";

/** Exit codes, as the rest of the CLI: 0 done, 1 Redis or the inbox said no, 2 a mistake in the command. */
const FAILED = 1;
const USAGE = 2;

const STATUSES: readonly DeliveryStatus[] = ["queued", "active", "retrying", "completed", "dead"];
/** How long an unreachable Redis is tried before the command gives up. */
const CONNECT_TIMEOUT_MS = 5000;

export const DELIVERIES_HELP = `imagegen-webhooks deliveries: the durable inbox's deliveries (bullmqInbox), read from its Redis

Usage:
  imagegen-webhooks deliveries list --redis <url> [inbox options] [--status <status>] [--provider <name>] [--limit <n>]
  imagegen-webhooks deliveries show <key> --redis <url> [inbox options]
  imagegen-webhooks deliveries replay <key> --redis <url> [inbox options]

Commands:
  list     the latest deliveries, newest first: status, attempts, when received, event, key, last error
  show     one delivery as JSON: its payload, attempts and each failed attempt's error
  replay   run a completed or dead delivery's listeners again (event.replayed); a worker
           (webhooks.startWorker()) connected to the same queue runs it

Options:
  --redis <url>        the Redis the inbox uses, e.g. redis://127.0.0.1:6379
  --cluster            the Redis is a Redis Cluster, --redis one of its nodes
  --queue <name>       the inbox's queueName (default imagegen-webhooks)
  --prefix <prefix>    the inbox's prefix (default bull; {imagegen-webhooks} on a cluster or with partitions)
  --partitions <n>     the inbox's partitions (default 1): every partition is read
  --status <status>    list: ${STATUSES.join(", ")}
  --provider <name>    list: one provider's deliveries
  --limit <n>          list: how many (default 50)

Needs the bullmq and ioredis packages (npm install bullmq ioredis).
Exit status: 0 done, 1 Redis could not be reached or the delivery does not exist (or cannot be
replayed yet), 2 for a mistake in the command.
`;

class Failure extends Error {}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        redis: { type: "string" },
        queue: { type: "string" },
        cluster: { type: "boolean" },
        prefix: { type: "string" },
        partitions: { type: "string" },
        status: { type: "string" },
        provider: { type: "string" },
        limit: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // parseArgs' first sentence names the option ("Unknown option '--x'"); the rest is about positionals.
    const [first] = (err as Error).message.split(". ");
    throw new UsageError(`${first}: the options are --redis, --cluster, --queue, --prefix, --partitions, --status, --provider, --limit`);
  }
}

/**
 * `imagegen-webhooks deliveries …`: the history and replay of `webhooks.deliveries`, from a shell.
 * The CLI configures no provider, so it talks to the inbox itself rather than through `createWebhooks()`.
 * Returns the exit code; writes its own errors to `err`.
 */
export async function deliveriesCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  try {
    return await run(argv, out);
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`imagegen-webhooks deliveries: ${printable(error.message)}\nRun imagegen-webhooks deliveries --help for the usage.\n`);
      return USAGE;
    }
    err.write(`imagegen-webhooks deliveries: ${printable((error as Error).message)}\n`);
    return FAILED;
  }
}

async function run(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse(argv);
  const [action, key, ...extra] = positionals;
  if (values.help || action === "help") {
    out.write(DELIVERIES_HELP);
    return 0;
  }
  if (action !== "list" && action !== "show" && action !== "replay") {
    throw new UsageError(action === undefined ? "name one: list, show or replay" : `unknown "${action}": list, show or replay`);
  }
  if (action === "list" ? key !== undefined : key === undefined || extra.length > 0) {
    throw new UsageError(action === "list" ? `list takes no argument, got "${key}"` : `${action} takes one delivery key, as list shows it`);
  }
  const filter = action === "list" ? listFilter(values) : {};
  if (values.redis === undefined) throw new UsageError("--redis is required: the inbox's Redis, e.g. redis://127.0.0.1:6379");
  const redisUrl = values.redis;
  if (!/^rediss?:\/\//.test(redisUrl)) throw new UsageError(`--redis takes a redis:// or rediss:// URL, not "${redisUrl}"`);

  const { partitions } = values;
  if (partitions !== undefined && !/^\d+$/.test(partitions)) throw new UsageError(`--partitions takes a whole number, not "${partitions}"`);
  const { inbox, connection } = await openInbox(redisUrl, values.cluster === true, {
    ...(values.queue !== undefined && { queueName: values.queue }),
    ...(values.prefix !== undefined && { prefix: values.prefix }),
    ...(partitions !== undefined && { partitions: Number(partitions) }),
  });
  try {
    if (action === "list") {
      const listed = await inbox.list(filter);
      // An inbox with its own queueName keeps its deliveries where the default does not look.
      if (listed.length === 0 && values.queue === undefined) out.write(NONE_IN_DEFAULT_QUEUE);
      else out.write(table(listed));
      return 0;
    }
    const deliveryKey = key as string;
    if (action === "show") {
      const detail = await inbox.get(deliveryKey);
      if (!detail) throw new Failure(`no delivery "${deliveryKey}" in this queue (it may have expired: the inbox's keep option)`);
      // JSON escapes C0 controls; the C1 ones and the bidi overrides it leaves are escaped the same way, in JSON's own \u form.
      out.write(`${printableLines(JSON.stringify(showable(detail), null, 2))}\n`);
      return 0;
    }
    if (!(await inbox.replay(deliveryKey))) throw new Failure(`no delivery "${deliveryKey}" in this queue`);
    out.write(`${printable(deliveryKey)}: queued again, replayed; a worker on this queue runs it\n`);
    return 0;
  } finally {
    await inbox.close();
    connection.disconnect();
  }
}

function listFilter(values: { status?: string; provider?: string; limit?: string }) {
  const { status, provider, limit } = values;
  if (status !== undefined && !STATUSES.includes(status as DeliveryStatus)) {
    throw new UsageError(`--status is one of ${STATUSES.join(", ")}, not "${status}"`);
  }
  let count: number | undefined;
  if (limit !== undefined) {
    count = Number(limit);
    if (!/^\d+$/.test(limit) || count < 1) throw new UsageError(`--limit takes a whole number of 1 or more, not "${limit}"`);
  }
  return {
    ...(status !== undefined && { status: status as DeliveryStatus }),
    ...(provider !== undefined && { provider }),
    ...(count !== undefined && { limit: count }),
  };
}

/** bullmq and ioredis are optional peers: loaded here, only for this command. */
async function loadPeers() {
  try {
    const [{ Redis, Cluster }, { bullmqInbox }] = await Promise.all([import("ioredis"), import("../entries/bullmq/index.js")]);
    return { Redis, Cluster, bullmqInbox };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "MODULE_NOT_FOUND" && code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new Failure("the deliveries command needs the bullmq and ioredis packages: npm install bullmq ioredis");
  }
}

async function openInbox(
  url: string,
  cluster: boolean,
  options: { queueName?: string; prefix?: string; partitions?: number },
): Promise<{ inbox: Inbox; connection: Redis | Cluster }> {
  const { Redis, Cluster, bullmqInbox } = await loadPeers();
  // Connected before the inbox is made: its own connection fails fast rather than waiting for
  // Redis, so an unreachable Redis is said once, here, instead of as a failed command.
  const nodeOptions = { maxRetriesPerRequest: null, connectTimeout: CONNECT_TIMEOUT_MS };
  let connection: Redis | Cluster;
  if (cluster) {
    const { hostname, port, username, password } = new URL(url);
    connection = new Cluster([{ host: hostname, port: Number(port || 6379) }], {
      lazyConnect: true,
      clusterRetryStrategy: () => null,
      redisOptions: {
        ...nodeOptions,
        ...(username && { username: decodeURIComponent(username) }),
        ...(password && { password: decodeURIComponent(password) }),
        ...(url.startsWith("rediss:") && { tls: {} }),
      },
    });
  } else {
    connection = new Redis(url, { ...nodeOptions, lazyConnect: true, retryStrategy: () => null });
  }
  // connect() rejects with "Connection is closed"; the reason (ECONNREFUSED, …) comes as an error event.
  let reason: Error | undefined;
  connection.on("error", (error: Error) => void (reason ??= error));
  try {
    await connection.connect();
  } catch (error) {
    connection.disconnect();
    throw new Failure(`cannot reach Redis at ${hostOf(url)}: ${(reason ?? (error as Error)).message}`);
  }
  try {
    return { inbox: bullmqInbox({ connection, ...options }), connection };
  } catch (error) {
    connection.disconnect();
    // A bad queue name, prefix or partitions: bullmqInbox's TypeError says what it takes.
    throw new UsageError((error as Error).message);
  }
}

/** The host and port only: a Redis URL may hold a password. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the given URL";
  }
}

/** `show`'s JSON: the summary's fields first, then the attempts' errors and the payload. */
function showable(detail: DeliveryDetail): Record<string, unknown> {
  const { payload, errors, ...summary } = detail;
  return { ...summary, errors, payload };
}

const COLUMNS: { title: string; of: (d: DeliverySummary) => string; max?: number }[] = [
  { title: "STATUS", of: (d) => d.status },
  { title: "ATTEMPTS", of: (d) => String(d.attempts) },
  { title: "RECEIVED", of: (d) => d.receivedAt.replace("T", " ").replace(/\.\d+Z$/, "Z") },
  { title: "EVENT", of: (d) => `${d.name}${d.replayed ? " (replayed)" : ""}` },
  { title: "KEY", of: (d) => d.key },
  { title: "ERROR", of: (d) => d.error ?? "", max: 60 },
];

const NONE_IN_DEFAULT_QUEUE =
  'no deliveries in the default queue "imagegen-webhooks": if your inbox sets queueName, pass it as --queue <name>\n';

/** One line a delivery, columns padded to their widest cell. */
function table(deliveries: DeliverySummary[]): string {
  if (deliveries.length === 0) return "no deliveries\n";
  const rows = deliveries.map((d) =>
    COLUMNS.map(({ of, max }) => {
      const cell = printable(of(d).replace(/\s+/g, " "));
      return max !== undefined && cell.length > max ? `${cell.slice(0, max - 1)}…` : cell;
    }),
  );
  const widths = COLUMNS.map(({ title }, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd();
  return `${[line(COLUMNS.map(({ title }) => title)), ...rows.map(line)].join("\n")}\n`;
}
