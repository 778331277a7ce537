import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { createDemoApp, type DemoApp } from "../../example-app/app";

// Debian's chromium, driven by playwright-core: never a browser download.
const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const ARTIFACTS = join(__dirname, "..", "..", "artifacts");

jest.setTimeout(90_000);

let server: Server;
let demo: DemoApp;
let browser: Browser;
let page: Page;
let url: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the example app's browser test needs Debian's chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does)`,
    );
  }
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  // A fifth of the providers' pace: the cards still visibly move, the test stays short.
  demo = createDemoApp({
    crazyhorseSecret: "ch-secret",
    allImagesSecret: "ai-secret",
    imageBaseUrl: `${url}storage/`,
    simulationTimeScale: 0.2,
  });
  server.on("request", demo.app);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  await page.goto(url);
  await page.waitForSelector("#connection[data-state=live]");
});

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

/** Picks an outcome, clicks a simulate button, and returns the id of the job it started. */
async function simulate(provider: "crazyhorse" | "all-images" | "replicate", outcome: string): Promise<string> {
  await page.selectOption("#outcome", outcome);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes(`/simulate/${provider}`)),
    page.click(`button[data-provider="${provider}"]`),
  ]);
  expect(response.status()).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const card = (id: string) => `.card[data-generation="${id}"]`;

/** Runs in the page (the tests are type-checked without the DOM's types, hence the local shape). */
function fourImagesLoaded(selector: string): boolean {
  type Img = { complete: boolean; naturalWidth: number };
  const page = globalThis as unknown as { document: { querySelectorAll(selector: string): ArrayLike<Img> } };
  const images = Array.from(page.document.querySelectorAll(`${selector} img`));
  return images.length === 4 && images.every((image) => image.complete && image.naturalWidth > 0);
}

test("a simulated all-images job becomes a completed card whose four images load", async () => {
  const id = await simulate("all-images", "completed");
  await page.waitForSelector(`${card(id)}[data-status=completed]`);
  await page.waitForFunction(fourImagesLoaded, card(id));
  expect(await page.textContent(`${card(id)} .provider`)).toBe("all-images.ai");
  expect(await page.textContent(`${card(id)} .status`)).toBe("completed");
  expect(await page.$$eval(`${card(id)} .deliveries code`, (codes) => codes.map((code) => code.textContent))).toEqual([
    "all-images.print.created",
    "all-images.print.active",
    ...Array(4).fill("all-images.print.progress"),
    "all-images.print.completed",
  ]);
  const sources = await page.locator(`${card(id)} img`).evaluateAll((images) => images.map((image) => image.getAttribute("src")));
  for (const source of sources) expect(source?.startsWith(`${url}storage/`)).toBe(true);
});

test("a simulated Replicate prediction, signed, becomes a completed card whose four images load", async () => {
  const id = await simulate("replicate", "completed");
  await page.waitForSelector(`${card(id)}[data-status=completed]`);
  await page.waitForFunction(fourImagesLoaded, card(id));
  expect(await page.textContent(`${card(id)} .provider`)).toBe("replicate.com");
  expect(await page.$$eval(`${card(id)} .deliveries code`, (codes) => codes.map((code) => code.textContent))).toEqual([
    "replicate.starting",
    ...Array(5).fill("replicate.processing"),
    "replicate.succeeded",
  ]);
});

test("a crazyhorse job that fails shows a failed card with no image", async () => {
  const id = await simulate("crazyhorse", "failed");
  await page.waitForSelector(`${card(id)}[data-status=failed]`);
  expect(await page.textContent(`${card(id)} .provider`)).toBe("crazyhorse.ai");
  expect(await page.textContent(`${card(id)} .steps li.failed`)).toBe("failed");
  expect(await page.$$(`${card(id)} img`)).toHaveLength(0);
});

test("a retried crazyhorse delivery completes the card once and is listed as a duplicate", async () => {
  const id = await simulate("crazyhorse", "retry");
  await page.waitForSelector(`${card(id)}[data-status=completed]`);
  await page.waitForSelector(`#duplicates li`);
  await page.waitForFunction(fourImagesLoaded, card(id));
  expect(await page.textContent("#duplicate-count")).toBe("1");
  expect(await page.textContent(`${card(id)} .deliveries li.duplicate code`)).toMatch(/^crazyhorse\.\w+ again: duplicate, not emitted$/);
});

test("a forged delivery is answered 401 and listed as rejected", async () => {
  await page.click("#forge");
  await page.waitForSelector("#invalid li");
  expect(await page.textContent("#invalid li .code")).toBe("401");
  expect(await page.textContent("#invalid li .what")).toContain("auth.failed");
  expect(await page.textContent("#notice")).toContain("answered 401");

  // The screenshot (the README's docs/example-app.png comes from it) with one job still on its way.
  const moving = await simulate("all-images", "completed");
  await page.waitForSelector(`${card(moving)} .slot.filled`);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "example-app.png"), fullPage: true });
});
