// Two `npm start` processes on one Redis and one queue, as docs/inbox.md's walk-through runs them, each
// page in the browser: a card appears on every page whichever process's worker ran its deliveries
// (the pages' feed goes through Redis), and "our listener fails twice, then works" completes on its
// third attempt whichever worker runs it, the one of a process killed while it retries included.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { startDemoServer, type DemoServerProcess } from "../helpers/demo-process";
import { suiteRedisUrl } from "../helpers/redis-server";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"];

// Four processes start here (two demos, twice), each with tsx, under the other test files' load.
jest.setTimeout(180_000);

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the example app's browser test needs Debian's chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\``,
    );
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
});

/** Two demos on one queue of their own; `env` for each in turn. */
async function startTwo(...envs: NodeJS.ProcessEnv[]): Promise<DemoServerProcess[]> {
  const queue = `two-processes-${randomUUID()}`;
  return Promise.all(envs.map((env) => startDemoServer({ ...process.env, REDIS_URL: suiteRedisUrl(), INBOX_QUEUE: queue, ...env })));
}

async function openPage(demo: DemoServerProcess): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  await page.goto(`http://127.0.0.1:${demo.port}/`);
  await page.waitForSelector("#connection[data-state=live]");
  await page.waitForSelector("#inbox[data-mode=inbox]");
  return page;
}

/** Picks an outcome, clicks a provider's button (crazyhorse's by default), and returns the id of the job it started. */
async function simulate(page: Page, outcome: string, provider = "crazyhorse"): Promise<string> {
  await page.selectOption("#outcome", outcome);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes(`/simulate/${provider}`)),
    page.click(`button[data-provider="${provider}"]`),
  ]);
  expect(response.status()).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const card = (id: string) => `.card[data-generation="${id}"]`;
const logOf = (page: Page, id: string) => page.$$eval(`${card(id)} .deliveries code`, (codes) => codes.map((code) => code.textContent));

/** Waits, up to `timeoutMs`, until the process has printed `text` (its worker logs each event it runs). */
async function printed(demo: DemoServerProcess, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!demo.output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`the demo never printed ${JSON.stringify(text)}:\n${demo.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const FLAKY_LOG = [
  "crazyhorse.waiting",
  "crazyhorse.processing",
  "crazyhorse.done · attempt 1 failed",
  "crazyhorse.done · attempt 2 failed",
  "crazyhorse.done · attempt 3",
];

describe("a web process with no worker and one with a worker, on one queue", () => {
  let demos: DemoServerProcess[] = [];
  beforeAll(async () => {
    demos = await startTwo({ INBOX_WORKER: "false" }, {});
  });
  afterAll(async () => {
    await Promise.all(demos.map((demo) => demo.stop()));
  });

  test("a job clicked on the first page is run by the other process's worker, and its card shows on both pages; failing twice, it completes on attempt 3", async () => {
    const [web, worker] = demos as [DemoServerProcess, DemoServerProcess];
    expect(web.output()).toContain("no worker in this process (INBOX_WORKER=false)");
    const [clicked, other] = await Promise.all([openPage(web), openPage(worker)]);

    const id = await simulate(clicked, "flaky");
    for (const page of [clicked, other]) await page.waitForSelector(`${card(id)}[data-status=completed]`, { timeout: 60_000 });
    // The flag the click set is in Redis: the worker of the process not clicked failed attempts 1 and 2, completed the third.
    for (const page of [clicked, other]) {
      expect((await logOf(page, id)).map((line) => line?.replace(/: .*/, ""))).toEqual(FLAKY_LOG);
      expect(await page.textContent(`${card(id)} .provider`)).toBe("crazyhorse.ai");
    }
    await printed(worker, `crazyhorse.done: generation ${id} is completed`);
    expect(worker.output()).toContain("the image service did not answer (attempt 2;");
    // The clicked process ran none of it: its page heard of it through Redis.
    expect(web.output()).not.toContain(`generation ${id} is`);
    const item = `#deliveries li[data-key="crazyhorse:${id}:done"]`;
    await clicked.waitForSelector(`${item}[data-status=completed]`);
    expect(await clicked.textContent(`${item} .attempts`)).toBe("3 attempts");
  });

  test("what the other process reads back from the fake APIs, it finds: an OpenAI response's images, a lost Replicate webhook recovered", async () => {
    const [web, worker] = demos as [DemoServerProcess, DemoServerProcess];
    const [clicked, other] = await Promise.all([openPage(web), openPage(worker)]);
    // OpenAI's webhook names the response only: the worker reads it back from the fake API at its own
    // address, which must know the response the clicked process played.
    const response = await simulate(clicked, "completed", "openai");
    // Replicate's last webhook is never sent: a reconciler reads the prediction back, whichever process's.
    const prediction = await simulate(clicked, "lost", "replicate");
    for (const page of [clicked, other]) {
      await page.waitForSelector(`${card(response)}[data-status=completed]`, { timeout: 60_000 });
      await page.waitForSelector(`${card(prediction)}[data-status=completed]`, { timeout: 60_000 });
      expect(await page.locator(`${card(response)} img`).count()).toBeGreaterThan(0);
      expect(await page.isVisible(`${card(prediction)} .recovered`)).toBe(true);
    }
    await printed(worker, `openai.response.completed: generation ${response} is completed`);
    // The prediction's images are on the clicked process's storage, at another port: the worker kept them all.
    const sources = await other
      .locator(`${card(prediction)} img`)
      .evaluateAll((images) => images.map((image) => image.getAttribute("src")));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source).toMatch(new RegExp(`^http://localhost:${worker.port}/kept/replicate/${prediction}/`));
    expect(await other.locator(`${card(prediction)} .deliveries li.image-failed`).count()).toBe(0);
  });
});

describe("two processes, each with a worker, as docs/inbox.md runs them", () => {
  let demos: DemoServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(demos.map((demo) => demo.stop()));
  });

  test("a job clicked on one page shows on both; killed (kill -9) while its flaky delivery retries, the other process completes it on attempt 3", async () => {
    demos = await startTwo({}, {});
    const [first, second] = demos as [DemoServerProcess, DemoServerProcess];
    const [clicked, other] = await Promise.all([openPage(first), openPage(second)]);

    // Whichever worker runs a job's deliveries, its card is on both pages.
    const plain = await simulate(clicked, "completed");
    for (const page of [clicked, other]) await page.waitForSelector(`${card(plain)}[data-status=completed]`, { timeout: 60_000 });
    expect(await logOf(other, plain)).toEqual(await logOf(clicked, plain));

    const id = await simulate(clicked, "flaky");
    await other.waitForSelector(`${card(id)} .deliveries li.failed-attempt`, { timeout: 60_000 });
    await first.kill();
    await other.waitForSelector(`${card(id)}[data-status=completed]`, { timeout: 60_000 });
    expect((await logOf(other, id)).map((line) => line?.replace(/: .*/, ""))).toEqual(FLAKY_LOG);
    await printed(second, `crazyhorse.done: generation ${id} is completed`);
    const item = `#deliveries li[data-key="crazyhorse:${id}:done"]`;
    await other.waitForSelector(`${item}[data-status=completed]`);
    expect(await other.textContent(`${item} .attempts`)).toBe("3 attempts");
  });
});
