/**
 * The CLI's main() in this process (cli.test.ts runs it as a user does, in processes of its own):
 * every mistake in a command is refused with a message that says what to change, before anything is
 * sent; --dry-run, schema, --version; what it prints of a receiver's answer; simulate's options; and
 * `deliveries`' mistakes, which need no Redis to be told.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { crazyhorseSchema } from "imagegen-webhooks";
import { main } from "../lib/cli/index";
import { deliveriesCommand } from "../lib/cli/deliveries";

/** A stream that keeps what the CLI writes. */
function output(): { stream: NodeJS.WritableStream; text: () => string } {
  const chunks: string[] = [];
  return { stream: { write: (chunk: string) => chunks.push(chunk) > 0 } as unknown as NodeJS.WritableStream, text: () => chunks.join("") };
}

/** A receiver that answers every request with `answer`, and records what it was sent. */
async function receiver(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: { url: string; headers: IncomingMessage["headers"]; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      requests.push({ url: req.url ?? "", headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("main(): mistakes in the command", () => {
  const url = "http://127.0.0.1:9/webhooks";
  test.each<[string, string[], string]>([
    ["no command", [], "name a command: send, simulate, keys, schema or deliveries"],
    ["an unknown command", ["deploy"], 'unknown command "deploy": the commands are send, simulate, keys, schema and deliveries'],
    ["an unknown option", ["send", "--urll", "x"], "unknown option --urll: the options are --url, --secret"],
    ["a string option without its value", ["send", "crazyhorse", "DONE", "--url"], "--url"],
    ["no provider", ["send"], "name a provider: crazyhorse, all-images, replicate"],
    ["an unknown provider", ["schema", "midjourney"], 'unknown provider "midjourney": the providers are'],
    ["no event", ["send", "crazyhorse", "--url", url, "--secret", "s"], 'name the event: the value of crazyhorse\'s "state" field'],
    ["an event the provider does not list", ["send", "crazyhorse", "DONNE", "--dry-run"], 'unknown event "DONNE" for crazyhorse'],
    ["no --url", ["send", "crazyhorse", "DONE", "--secret", "s"], "--url is required"],
    ["a --url that is not a URL", ["send", "crazyhorse", "DONE", "--url", "not a url", "--secret", "s"], '--url "not a url" is not a URL'],
    [
      "a --url that is not http",
      ["send", "crazyhorse", "DONE", "--url", "ftp://x/y", "--secret", "s"],
      "--url must be http or https, not ftp:",
    ],
    ["no secret", ["send", "crazyhorse", "DONE", "--url", url], "--secret is required"],
    [
      "a --token-in that is neither",
      ["send", "crazyhorse", "DONE", "--url", url, "--secret", "s", "--token-in", "cookie"],
      "--token-in is header, query or bearer",
    ],
    ["a --set without =", ["send", "crazyhorse", "DONE", "--dry-run", "--set", "hair"], '--set takes field=value, not "hair"'],
    [
      "a --set of __proto__",
      ["send", "crazyhorse", "DONE", "--dry-run", "--set", "__proto__.polluted=1"],
      '"__proto__.polluted" is not a field path',
    ],
    ["a --set with an empty field", ["send", "crazyhorse", "DONE", "--dry-run", "--set", "params..x=1"], '"params..x" is not a field path'],
    ["--retry with --no-retry", ["simulate", "crazyhorse", "--retry", "--no-retry"], "--retry and --no-retry cannot both be given"],
    ["a --seed that is not a number", ["simulate", "crazyhorse", "--seed", "abc"], '--seed takes a number of 0 or more, not "abc"'],
    ["a negative --speed", ["simulate", "crazyhorse", "--speed=-1"], '--speed takes a number of 0 or more, not "-1"'],
    ["an empty --speed", ["simulate", "crazyhorse", "--speed", " "], '--speed takes a number of 0 or more, not " "'],
    [
      "an --image-base-url that is not a URL",
      ["simulate", "all-images", "--image-base-url", "cdn", "--dry-run"],
      '--image-base-url "cdn" is not a URL',
    ],
  ])("%s: refused, saying what to change", async (_case, argv, message) => {
    await expect(main(argv, output().stream)).rejects.toThrow(message);
  });

  test("a mistake is refused before anything is sent", async () => {
    const r = await receiver((_req, res) => res.end("success"));
    try {
      await expect(main(["send", "crazyhorse", "DONE", "--url", r.url, "--secret", "s", "--set", "=x"], output().stream)).rejects.toThrow(
        "--set takes field=value",
      );
      await expect(main(["simulate", "crazyhorse", "--url", r.url, "--secret", "s", "--seed", "-2"], output().stream)).rejects.toThrow(
        "--seed",
      );
      expect(r.requests).toEqual([]);
    } finally {
      await r.close();
    }
  });
});

describe("main(): what it prints", () => {
  test("--help and help print the usage; --version the package's version", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const out = output();
      expect(await main(argv, out.stream)).toBe(0);
      expect(out.text()).toContain("imagegen-webhooks send <provider> <event>");
    }
    const out = output();
    expect(await main(["-v"], out.stream)).toBe(0);
    expect(out.text()).toBe(`${(require("../package.json") as { version: string }).version}\n`);
  });

  test("schema prints the provider's JSON Schema", async () => {
    const out = output();
    expect(await main(["schema", "crazyhorse"], out.stream)).toBe(0);
    expect(JSON.parse(out.text())).toEqual(crazyhorseSchema);
  });

  test("send --dry-run prints the body with each --set applied: dotted paths made, JSON values parsed, other values as text", async () => {
    const out = output();
    const argv = [
      "send",
      "crazyhorse",
      "DONE",
      "--dry-run",
      "--set",
      "params.number=2",
      "--set",
      "extra.deep.name=a fox",
      "--set",
      "code=null",
    ];
    expect(await main(argv, out.stream)).toBe(0);
    const body = JSON.parse(out.text());
    expect(body.state).toBe("DONE");
    expect(body.params.number).toBe(2);
    expect(body.extra).toEqual({ deep: { name: "a fox" } });
    expect(body.code).toBeNull();
  });

  test("--any-event builds an event the provider does not list", async () => {
    const out = output();
    expect(await main(["send", "all-images", "print.refunded", "--any-event", "--dry-run"], out.stream)).toBe(0);
    expect(JSON.parse(out.text())).toMatchObject({ type: "print.refunded" });
  });

  test.each<[string, string, string, RegExp]>([
    [
      "a problem document, as it came",
      "application/problem+json",
      '{"title":"Unauthorized","status":401}',
      /: 401 \{"title":"Unauthorized","status":401\}\n$/,
    ],
    [
      "a long JSON answer, cut at 300 characters",
      "application/json",
      JSON.stringify({ detail: "x".repeat(400) }),
      /: 401 \{"detail":"x{289}…\n$/,
    ],
    ["a long text answer, one line of 160 characters", "text/plain", `bad\n${"word ".repeat(100)}`, /: 401 bad (word ){31}w…\n$/],
    ["an empty answer, its status alone", "text/plain", "", /: 401\n$/],
  ])("a refused delivery (%s) prints its status and the answer, and exits 1", async (_case, type, answer, printed) => {
    const r = await receiver((_req, res) => void res.writeHead(401, { "content-type": type }).end(answer));
    try {
      const out = output();
      expect(await main(["send", "crazyhorse", "DONE", "--url", `${r.url}/crazyhorse`, "--secret", "s"], out.stream)).toBe(1);
      expect(out.text()).toMatch(printed);
      expect(out.text()).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/webhooks\/crazyhorse crazyhorse DONE: 401/);
      expect(out.text()).not.toContain("hint:");
    } finally {
      await r.close();
    }
  });

  test("send with --token-in query puts the token in the URL, not in a header; with --signing-secret and --secret both are sent", async () => {
    const r = await receiver((_req, res) => void res.writeHead(200, { "content-type": "text/plain" }).end("success"));
    try {
      const out = output();
      expect(
        await main(
          ["send", "all-images", "print.completed", "--url", `${r.url}/all-images`, "--secret", "tok", "--token-in", "query"],
          out.stream,
        ),
      ).toBe(0);
      expect(out.text()).toMatch(/all-images print\.completed: 200 success\n$/);
      const signingSecret = `whsec_${Buffer.from("cli-main test replicate signing key").toString("base64")}`;
      const argv = ["send", "replicate", "succeeded", "--url", `${r.url}/replicate`, "--secret", "tok", "--signing-secret", signingSecret];
      expect(await main(argv, output().stream)).toBe(0);
      const [query, signed] = r.requests;
      expect(new URL(query!.url, r.url).searchParams.get("token")).toBe("tok");
      expect(query!.headers["x-webhook-token"]).toBeUndefined();
      expect(signed!.headers["x-webhook-token"]).toBe("tok");
      expect(signed!.headers["webhook-signature"]).toMatch(/^v1,/);
    } finally {
      await r.close();
    }
  });
});

describe("main(): Ed25519 keys (fal.ai, Ideogram)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-main-keys-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("keys makes a key once and prints its public set; send signs with it, a JWKS file's one private key too", async () => {
    const file = join(dir, "key.pem");
    const notes = output();
    const first = output();
    expect(await main(["keys", "--private-key", file], first.stream, { notes: notes.stream })).toBe(0);
    expect(notes.text()).toBe(`wrote a new Ed25519 private key to ${file}\n`);
    const again = output();
    expect(await main(["keys", "--private-key", file], again.stream, { notes: notes.stream })).toBe(0);
    expect(again.text()).toBe(first.text());
    const jwks = JSON.parse(first.text()) as { keys: { kid: string; x: string }[] };

    const { privateKey } = generateKeyPairSync("ed25519");
    const set = join(dir, "set.json");
    const { x } = privateKey.export({ format: "jwk" });
    writeFileSync(
      set,
      JSON.stringify({
        keys: [
          { kty: "OKP", crv: "Ed25519", x },
          { ...privateKey.export({ format: "jwk" }), kid: "k2" },
        ],
      }),
    );
    const r = await receiver((_req, res) => void res.writeHead(200).end());
    try {
      expect(await main(["send", "ideogram", "completed", "--url", r.url, "--private-key", file, "--user-id", "u"], output().stream)).toBe(
        0,
      );
      expect(await main(["send", "ideogram", "completed", "--url", r.url, "--private-key", set, "--user-id", "u"], output().stream)).toBe(
        0,
      );
      expect(r.requests.map((request) => request.headers["x-ideogram-webhook-key-id"])).toEqual([jwks.keys[0]!.kid, "k2"]);
      expect(r.requests.every((request) => /^[0-9a-f]{128}$/.test(String(request.headers["x-ideogram-webhook-signature"])))).toBe(true);
    } finally {
      await r.close();
    }
  });

  test.each<[string, (dir: string) => string, string]>([
    [
      "a key set of two private keys",
      (d) => keyFile(d, "two.json", { keys: [privateJwk(), privateJwk()] }),
      "a key set with 2 private keys",
    ],
    ["JSON that is no key", (d) => keyFile(d, "broken.json", "{ not json"), "not JSON, nor a PEM key"],
    ["a JWK of another curve", (d) => keyFile(d, "x25519.json", { kty: "OKP", crv: "X25519", x: "AA", d: "AA" }), "not an Ed25519 key"],
    [
      "a JWK whose d is no key",
      (d) => keyFile(d, "bad-d.json", { kty: "OKP", crv: "Ed25519", x: "AA", d: "AA" }),
      "not a valid Ed25519 JWK",
    ],
  ])("--private-key with %s: refused, saying so", async (_what, make, message) => {
    const file = make(dir);
    await expect(
      main(["send", "fal", "OK", "--url", "http://127.0.0.1:9/", "--private-key", file, "--user-id", "u"], output().stream),
    ).rejects.toThrow(message);
  });

  test("keys where no file can be written is a usage error", async () => {
    await expect(main(["keys", "--private-key", join(dir, "no-such-dir", "key.pem")], output().stream)).rejects.toThrow(
      "cannot write a new key there (ENOENT)",
    );
  });

  test("--user-id without --private-key, for a provider that does not sign with Ed25519, is refused", async () => {
    await expect(
      main(["send", "crazyhorse", "DONE", "--url", "http://127.0.0.1:9/", "--secret", "s", "--user-id", "u"], output().stream),
    ).rejects.toThrow("--user-id is for a provider that signs with Ed25519 (fal, ideogram): crazyhorse does not");
  });
});

function privateJwk(): object {
  return generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
}

function keyFile(dir: string, name: string, content: object | string): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

describe("main(): simulate", () => {
  test("--dry-run prints the job its options make: --fail, --no-retry, --seed, --image-base-url", async () => {
    const out = output();
    const argv = [
      "simulate",
      "all-images",
      "--dry-run",
      "--fail",
      "--no-retry",
      "--seed",
      "7",
      "--image-base-url",
      "https://cdn.example.com/",
    ];
    expect(await main(argv, out.stream)).toBe(0);
    const job = JSON.parse(out.text());
    expect(job.outcome).toBe("failed");
    expect(job.deliveries.some((d: { retry?: boolean }) => d.retry)).toBe(false);
    const again = output();
    expect(await main(argv, again.stream)).toBe(0);
    // The same seed, the same job (its timestamps aside).
    const played = (text: string) =>
      JSON.parse(text).deliveries.map((d: { event: string; body: unknown }) => [
        d.event,
        JSON.stringify(d.body).replace(/"createdAt":"[^"]*"/g, ""),
      ]);
    expect(played(again.text())).toEqual(played(out.text()));
    const completed = output();
    expect(
      await main(
        ["simulate", "all-images", "--dry-run", "--retry", "--seed", "7", "--image-base-url", "https://cdn.example.com/"],
        completed.stream,
      ),
    ).toBe(0);
    const images = JSON.stringify(JSON.parse(completed.text()).deliveries);
    expect(JSON.parse(completed.text()).deliveries.some((d: { retry?: boolean }) => d.retry)).toBe(true);
    expect(images).toContain("https://cdn.example.com/");
  });

  test("plays the job to the receiver, one line a delivery; a refusal stops it and exits 1", async () => {
    const accepted = await receiver((_req, res) => void res.writeHead(200, { "content-type": "text/plain" }).end("success"));
    try {
      const out = output();
      expect(
        await main(
          ["simulate", "crazyhorse", "--url", `${accepted.url}/crazyhorse`, "--secret", "s", "--speed", "0", "--retry", "--seed", "1"],
          out.stream,
        ),
      ).toBe(0);
      const lines = out.text().trimEnd().split("\n");
      expect(lines[0]).toMatch(/^simulating crazyhorse job \S+ \(completed, \d+ deliveries\) to http:/);
      expect(lines.slice(1)).toHaveLength(accepted.requests.length);
      expect(lines.filter((line) => line.includes(" (retry): 200 success"))).toHaveLength(1);
    } finally {
      await accepted.close();
    }
    const refusing = await receiver((_req, res) => void res.writeHead(401, { "content-type": "text/plain" }).end("no"));
    try {
      const out = output();
      expect(
        await main(["simulate", "crazyhorse", "--url", `${refusing.url}/crazyhorse`, "--secret", "s", "--speed", "0"], out.stream),
      ).toBe(1);
      expect(refusing.requests).toHaveLength(1);
      expect(out.text()).toMatch(/stopped: the receiver refused \S+ with 401\n$/);
    } finally {
      await refusing.close();
    }
  });
});

describe("deliveriesCommand(): mistakes, told before any Redis is reached", () => {
  test.each<[string, string[], string]>([
    ["no action", [], "name one: list, show or replay"],
    ["an unknown action", ["purge"], 'unknown "purge": list, show or replay'],
    ["list with a key", ["list", "crazyhorse:x:done"], 'list takes no argument, got "crazyhorse:x:done"'],
    ["show without a key", ["show", "--redis", "redis://127.0.0.1:9"], "show takes one delivery key, as list shows it"],
    ["replay with two keys", ["replay", "a", "b", "--redis", "redis://127.0.0.1:9"], "replay takes one delivery key, as list shows it"],
    [
      "an unknown option",
      ["list", "--url", "x"],
      "Unknown option '--url': the options are --redis, --cluster, --queue, --prefix, --partitions, --status, --provider, --limit",
    ],
    ["an unknown --status", ["list", "--status", "failed"], '--status is one of queued, active, retrying, completed, dead, not "failed"'],
    ["a --limit of 0", ["list", "--limit", "0"], '--limit takes a whole number of 1 or more, not "0"'],
    ["a --limit that is not whole", ["list", "--limit", "2.5"], '--limit takes a whole number of 1 or more, not "2.5"'],
    [
      "no --redis",
      ["list", "--status", "dead", "--provider", "crazyhorse", "--limit", "3"],
      "--redis is required: the inbox's Redis, e.g. redis://127.0.0.1:6379",
    ],
    [
      "a --redis that is not a redis:// URL",
      ["show", "k", "--redis", "localhost:6379"],
      '--redis takes a redis:// or rediss:// URL, not "localhost:6379"',
    ],
  ])("%s: exit 2, saying what to change", async (_case, argv, message) => {
    const out = output();
    const err = output();
    expect(await deliveriesCommand(argv, out.stream, err.stream)).toBe(2);
    expect(err.text()).toBe(`imagegen-webhooks deliveries: ${message}\nRun imagegen-webhooks deliveries --help for the usage.\n`);
    expect(out.text()).toBe("");
  });

  test("--help and help print its usage, exit 0; main() hands it `deliveries`", async () => {
    for (const argv of [["--help"], ["help"]]) {
      const out = output();
      expect(await deliveriesCommand(argv, out.stream, output().stream)).toBe(0);
      expect(out.text()).toContain("imagegen-webhooks deliveries replay <key> --redis <url>");
    }
    const out = output();
    expect(await main(["deliveries", "-h"], out.stream)).toBe(0);
    expect(out.text()).toContain("imagegen-webhooks deliveries list --redis <url>");
  });
});
