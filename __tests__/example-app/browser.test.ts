import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { chromium, type Browser, type Page, type Response } from "playwright-core";
import type { DemoOptions } from "../../example-app/app";
import { serveExampleApp, type ServedExampleApp } from "../helpers/example-app";
import { suiteRedisUrl } from "../helpers/redis-server";

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

type Served = ServedExampleApp;

/**
 * The example app on a loopback port, as `npm start` runs it (images kept, lost webhooks recovered);
 * a fifth of the providers' pace, so that cards still visibly move, and a second of quiet before a read-back.
 */
function serve(extra: Partial<DemoOptions> = {}): Promise<Served> {
  const kept = mkdtempSync(join(tmpdir(), "demo-browser-kept-"));
  return serveExampleApp(
    (origin) => {
      const url = `${origin}/`;
      return {
        crazyhorseSecret: "ch-secret",
        allImagesSecret: "ai-secret",
        imageBaseUrl: `${url}storage/`,
        simulationTimeScale: 0.2,
        reconcile: { origin: url, afterMs: 1000, everyMs: 200 },
        keepImages: { dir: kept, publicBaseUrl: `${url}kept/` },
        ...extra,
      };
    },
    () => rmSync(kept, { recursive: true, force: true }),
  );
}

let served: Served;
let browser: Browser;
let page: Page;
let url: string;
/** Every answer of 400 or more the page got, from its first load on. */
const failedResponses: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the example app's browser test needs Debian's chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does)`,
    );
  }
  served = await serve();
  url = `${served.url}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on("response", (response: Response) => {
    if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(url);
  await page.waitForSelector("#connection[data-state=live]");
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

/** Picks an outcome, clicks a simulate button, and returns the id of the job it started. */
async function simulate(provider: string, outcome: string, on = page): Promise<string> {
  await on.selectOption("#outcome", outcome);
  const [response] = await Promise.all([
    on.waitForResponse((r) => r.url().includes(`/simulate/${provider}`)),
    on.click(`button[data-provider="${provider}"]`),
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
  // The kept copies, not the provider's URLs.
  for (const source of sources) expect(source?.startsWith(`${url}kept/all-images/${id}/`)).toBe(true);
});

/** Runs in the page: whether the card has images, as many as its slots, each loaded. */
function allImagesLoaded(selector: string): boolean {
  type Img = { complete: boolean; naturalWidth: number };
  const page = globalThis as unknown as { document: { querySelectorAll(selector: string): ArrayLike<Img> } };
  const images = Array.from(page.document.querySelectorAll(`${selector} img`));
  const slots = page.document.querySelectorAll(`${selector} .slot`).length;
  return images.length > 0 && images.length === slots && images.every((image) => image.complete && image.naturalWidth > 0);
}

// Every provider the package receives has its button (issue 24): each plays a job, signed or
// authenticated as that provider does, that becomes a completed card whose kept images load.
test.each([
  ["leonardo", "leonardo.ai"],
  ["bfl", "bfl.ai"],
  ["fal", "fal.ai"],
  ["ideogram", "ideogram.ai"],
  ["openai", "openai.com"],
])("the %s button plays a job that becomes a completed card whose kept images load", async (provider, label) => {
  const id = await simulate(provider, "completed");
  await page.waitForSelector(`${card(id)}[data-status=completed]`);
  await page.waitForFunction(allImagesLoaded, card(id));
  expect(await page.textContent(`${card(id)} .provider`)).toBe(label);
  const sources = await page.locator(`${card(id)} img`).evaluateAll((images) => images.map((image) => image.getAttribute("src")));
  for (const source of sources) expect(source?.startsWith(`${url}kept/${provider}/`)).toBe(true);
});

test("a Replicate prediction whose final webhook is lost completes from the API: marked recovered, its kept images load", async () => {
  const id = await simulate("replicate", "lost");
  await page.waitForSelector(`${card(id)}[data-status=completed]`);
  await page.waitForFunction(fourImagesLoaded, card(id));
  expect(await page.isVisible(`${card(id)} .recovered`)).toBe(true);
  expect(await page.textContent(`${card(id)} .recovered`)).toBe("recovered from the API: its final webhook never came");
  expect(await page.$$eval(`${card(id)} .deliveries code`, (codes) => codes.map((code) => code.textContent))).toEqual([
    "replicate.starting",
    ...Array(5).fill("replicate.processing"),
    "replicate.succeeded · recovered from the API",
  ]);
  const sources = await page.locator(`${card(id)} img`).evaluateAll((images) => images.map((image) => image.getAttribute("src")));
  for (const source of sources) expect(source?.startsWith(`${url}kept/replicate/${id}/`)).toBe(true);
  // A card that came by webhook is not marked.
  expect(await page.locator(".card:not(.is-recovered) .recovered:visible").count()).toBe(0);
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

test("a failed Replicate prediction's card says why it failed", async () => {
  const id = await simulate("replicate", "failed");
  await page.waitForSelector(`${card(id)}[data-status=failed]`);
  expect(await page.textContent(`${card(id)} .failure`)).toBe("the model ran out of GPU memory");
  expect(await page.isVisible(`${card(id)} .failure`)).toBe(true);
  // A card that completed has no reason to show.
  expect(await page.locator(".card[data-status=completed] .failure:visible").count()).toBe(0);
});

/**
 * Clicks a Generate button (issue 25's submit-track-wait): the page's request waits on the server's
 * `generations.wait()`. Returns the card of the generation it tracked, and the request's answer.
 */
async function generate(outcome: "completed" | "lost") {
  const answered = page.waitForResponse((r) => r.url().endsWith(`/generate?outcome=${outcome}`), { timeout: 60_000 });
  await page.click(`button[data-generate="${outcome}"]`);
  // The request is still waiting: the page says so.
  expect(await page.textContent("#generate-result")).toMatch(/^Waiting/);
  // Tracked before any webhook: its card comes from the track, its first line says so.
  const tracked = `.card:not([data-seen]):has(.deliveries li.tracked)`;
  await page.waitForSelector(tracked);
  const id = (await page.getAttribute(tracked, "data-generation")) as string;
  await page.$eval(card(id), (element) => element.setAttribute("data-seen", ""));
  const response = await answered;
  expect(response.status()).toBe(200);
  const body = (await response.json()) as { generation: { id: string; status: string; origin: string; metadata: Record<string, unknown> } };
  expect(body.generation.id).toBe(id);
  return { id, generation: body.generation };
}

test("Generate: the generation is tracked (a card with its metadata before any webhook), its webhook completes it, and the waiting request answers", async () => {
  const { id, generation } = await generate("completed");
  expect(generation).toMatchObject({ status: "completed", origin: "webhook", metadata: { requestedBy: "the demo page" } });
  await page.waitForSelector(`${card(id)}[data-status=completed]`);
  await page.waitForFunction(allImagesLoaded, card(id));
  expect(await page.$$eval(`${card(id)} .deliveries code`, (codes) => codes.map((code) => code.textContent))).toEqual([
    "tracked: generations.track(), with its metadata",
    "replicate.succeeded",
  ]);
  expect(await page.textContent(`${card(id)} .caption`)).toBe("a lighthouse at dusk");
  expect(await page.isVisible(`${card(id)} .metadata`)).toBe(true);
  expect(JSON.parse(((await page.textContent(`${card(id)} .metadata`)) as string).replace(/^metadata /, ""))).toEqual(generation.metadata);
  await page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } } }).document;
    return !doc.getElementById("generate-result").textContent?.startsWith("Waiting");
  });
  const result = (await page.textContent("#generate-result")) as string;
  // The answer, long as it is, wraps inside the side column: the page never scrolls sideways.
  const widths = await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
    return [doc.documentElement.scrollWidth, doc.documentElement.clientWidth];
  });
  expect(widths[0]).toBeLessThanOrEqual(widths[1] as number);
  expect(result).toMatch(new RegExp(`^The request waited \\d+\\.\\d s: ${id} is completed, heard of by webhook \\(\\d+ images\\)\\n`));
  expect(result).toContain(`metadata: ${JSON.stringify(generation.metadata)}`);
});

test("Generate with its only webhook lost: the tracked generation is read back from the API, its card marked recovered", async () => {
  const { id, generation } = await generate("lost");
  expect(generation).toMatchObject({ status: "completed", origin: "reconciled", metadata: { requestedBy: "the demo page" } });
  await page.waitForSelector(`${card(id)}[data-status=completed]`);
  expect(await page.isVisible(`${card(id)} .recovered`)).toBe(true);
  expect(await page.$$eval(`${card(id)} .deliveries code`, (codes) => codes.map((code) => code.textContent))).toEqual([
    "tracked: generations.track(), with its metadata",
    "replicate.succeeded · recovered from the API",
  ]);
  expect(await page.isVisible(`${card(id)} .metadata`)).toBe(true);
});

/** Runs in the page: whether any line of the card's delivery log is cut by the log's visible box. */
function logLinesCut(selector: string): string[] {
  type Box = { top: number; bottom: number };
  type Node = {
    getBoundingClientRect(): Box;
    clientHeight: number;
    textContent: string | null;
    querySelectorAll(s: string): ArrayLike<Node>;
  };
  const doc = (globalThis as unknown as { document: { querySelector(s: string): Node } }).document;
  const list = doc.querySelector(`${selector} .deliveries`);
  const box = list.getBoundingClientRect();
  const cut: string[] = [];
  for (const line of Array.from(list.querySelectorAll("li"))) {
    const { top, bottom } = line.getBoundingClientRect();
    const inside = top >= box.top - 0.5 && bottom <= box.bottom + 0.5;
    const outside = bottom <= box.top + 0.5 || top >= box.bottom - 0.5;
    if (!inside && !outside) cut.push(line.textContent ?? "");
  }
  return cut;
}

test("a card's delivery log scrolls by whole lines: at its end, no line is cut at the top or the bottom", async () => {
  const id = await simulate("all-images", "retry");
  await page.waitForSelector(`${card(id)}[data-status=completed]`);
  await page.waitForFunction((selector) => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document;
    return doc.querySelectorAll(`${selector} .deliveries li`).length === 8;
  }, card(id));
  const scrolled = await page.$eval(`${card(id)} .deliveries`, (list) => list.scrollTop > 0);
  expect(scrolled).toBe(true); // more lines than it shows: the case that clipped
  expect(await page.evaluate(logLinesCut, card(id))).toEqual([]);
});

/**
 * Runs in the page: how every card's parts are laid out, as faults to read (none, when it is right).
 * At every depth of a card, an element lies inside its parent's content box and meets none of its
 * siblings; in a box that scrolls (the delivery log) a child lies wholly inside the visible area or
 * wholly outside it, never across its edge; and a box that lets its content overflow has none that does.
 * Elements not rendered (hidden) are left out. Also returns each card's outcome, to say what was looked at.
 */
function cardLayout(): { cards: string[]; faults: string[] } {
  type Rect = { left: number; top: number; right: number; bottom: number };
  type Element = {
    tagName: string;
    className: string;
    parentElement: Element | null;
    children: ArrayLike<Element>;
    dataset: Record<string, string | undefined>;
    classList: { contains(name: string): boolean };
    getBoundingClientRect(): Rect;
    getClientRects(): ArrayLike<Rect>;
    clientLeft: number;
    clientTop: number;
    clientWidth: number;
    clientHeight: number;
    scrollWidth: number;
    scrollHeight: number;
  };
  type Style = Record<"display" | "overflowX" | "overflowY" | "paddingLeft" | "paddingTop" | "paddingRight" | "paddingBottom", string>;
  const page = globalThis as unknown as {
    document: { querySelectorAll(selector: string): ArrayLike<Element> };
    getComputedStyle(element: Element): Style;
  };
  const slack = 0.5;
  const name = (element: Element) =>
    `${element.tagName.toLowerCase()}${element.className ? `.${element.className.split(/\s+/).join(".")}` : ""}`;
  const meet = (a: Rect, b: Rect) =>
    a.left < b.right - slack && b.left < a.right - slack && a.top < b.bottom - slack && b.top < a.bottom - slack;
  const inside = (a: Rect, box: Rect) =>
    a.left >= box.left - slack && a.right <= box.right + slack && a.top >= box.top - slack && a.bottom <= box.bottom + slack;
  const rendered = (element: Element) => element.getClientRects().length > 0;
  /** The content box; for a box that scrolls, the area it shows (its padding box). */
  function innerBox(element: Element, style: Style, scrolls: boolean): Rect {
    const outer = element.getBoundingClientRect();
    const left = outer.left + element.clientLeft;
    const top = outer.top + element.clientTop;
    const pad = (side: string) => (scrolls ? 0 : parseFloat(side));
    return {
      left: left + pad(style.paddingLeft),
      top: top + pad(style.paddingTop),
      right: left + element.clientWidth - pad(style.paddingRight),
      bottom: top + element.clientHeight - pad(style.paddingBottom),
    };
  }

  const cards: string[] = [];
  const faults: string[] = [];
  for (const card of Array.from(page.document.querySelectorAll(".card"))) {
    const label = `${card.dataset.provider} ${card.dataset.status}${card.classList.contains("is-recovered") ? " (recovered)" : ""}`;
    cards.push(label);
    const where = (element: Element) => {
      const path: string[] = [];
      for (let at: Element | null = element; at && at !== card; at = at.parentElement) path.unshift(name(at));
      return `${label} ${card.dataset.generation}: ${path.join(" > ") || "the card"}`;
    };
    const visit = (element: Element) => {
      const style = page.getComputedStyle(element);
      const scrolls = /auto|scroll/.test(`${style.overflowX} ${style.overflowY}`);
      const clips = scrolls || /hidden|clip/.test(`${style.overflowX} ${style.overflowY}`);
      if (
        !clips &&
        style.display !== "inline" &&
        (element.scrollWidth > element.clientWidth + 1 || element.scrollHeight > element.clientHeight + 1)
      )
        faults.push(`${where(element)}: its content overflows it`);
      const box = innerBox(element, style, scrolls);
      const children = Array.from(element.children).filter(rendered);
      children.forEach((child, i) => {
        const rect = child.getBoundingClientRect();
        const hidden = scrolls && (rect.bottom <= box.top + slack || rect.top >= box.bottom - slack);
        if (!hidden && !inside(rect, box))
          faults.push(`${where(child)}: leaves ${scrolls ? "the visible area" : "the box"} of ${name(element)}`);
        for (const sibling of children.slice(i + 1))
          if (meet(rect, sibling.getBoundingClientRect())) faults.push(`${where(child)}: meets ${name(sibling)}`);
        visit(child);
      });
    };
    visit(card);
  }
  return { cards, faults };
}

/** At each width the tests use, every card of the page is laid out without overlap or overflow. */
async function expectCardsLaidOut(on: Page): Promise<string[]> {
  const viewport = on.viewportSize();
  const cards: string[] = [];
  try {
    for (const width of [1360, 1280]) {
      await on.setViewportSize({ width, height: 900 });
      const layout = await on.evaluate(cardLayout);
      expect([width, layout.faults]).toEqual([width, []]);
      cards.push(...layout.cards);
    }
  } finally {
    if (viewport) await on.setViewportSize(viewport);
  }
  return cards;
}

test("at 1280 px wide, the outcome menu and the header's buttons wrap into rows that never overlap, each label on one line", async () => {
  await page.setViewportSize({ width: 1280, height: 900 });
  try {
    type Rect = { top: number; bottom: number; left: number; right: number };
    type Doc = { createRange(): { selectNodeContents(node: unknown): void; getClientRects(): ArrayLike<unknown> } };
    const controls = await page.$$eval(".controls button, .controls select", (elements) =>
      elements.map((element) => {
        const range = (globalThis as unknown as { document: Doc }).document.createRange();
        range.selectNodeContents(element);
        const { top, bottom, left, right } = element.getBoundingClientRect() as Rect;
        return {
          label: element.tagName === "SELECT" ? "outcome" : element.textContent,
          lines: range.getClientRects().length,
          top,
          bottom,
          left,
          right,
        };
      }),
    );
    const buttons = controls.filter(({ label }) => label !== "outcome");
    expect(buttons.map(({ label, lines }) => [label, lines])).toEqual([
      ["Simulate a crazyhorse job", 1],
      ["Simulate an all-images job", 1],
      ["Simulate a Replicate prediction", 1],
      ["Simulate a Leonardo.ai generation", 1],
      ["Simulate a Black Forest Labs task", 1],
      ["Simulate a fal.ai request", 1],
      ["Simulate an Ideogram generation", 1],
      ["Simulate an OpenAI response", 1],
      ["Send a forged delivery", 1],
    ]);
    // With eight providers' worth of buttons they take more than one row: no two of them may meet.
    for (const [i, a] of controls.entries())
      for (const b of controls.slice(i + 1)) {
        const meet = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        expect([a.label, b.label, meet]).toEqual([a.label, b.label, false]);
      }
  } finally {
    await page.setViewportSize({ width: 1360, height: 900 });
  }
});

test("the page loads with no failed request, a favicon included; in memory mode it says what the inbox would add", async () => {
  const icon = await page.request.get(`${url}favicon.ico`);
  expect(icon.status()).toBe(200);
  expect(icon.headers()["content-type"]).toMatch(/^image\/svg\+xml/);
  expect(failedResponses).toEqual([]);
  expect(await page.textContent("#inbox-mode")).toBe("in memory");
  expect(await page.isVisible("#inbox-memory")).toBe(true);
  expect(await page.isVisible("#queue-board")).toBe(false);
  expect(await page.$$eval("#outcome option[data-needs-inbox]", (options) => options.map((o) => [o.textContent, o.disabled]))).toEqual([
    ["our listener fails twice, then works (needs REDIS_URL)", true],
    ["our listener fails until replayed (needs REDIS_URL)", true],
  ]);
});

describe("in inbox mode (REDIS_URL)", () => {
  let connection: Redis;
  let inboxServed: Served;
  let inboxPage: Page;
  const panelItem = (key: string) => `#deliveries li[data-key="${key}"]`;

  beforeAll(async () => {
    connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
    inboxServed = await serve({ inbox: { connection, queueName: `browser-${randomUUID()}`, retryDelayMs: 300 } });
    inboxPage = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await inboxPage.goto(inboxServed.url);
    await inboxPage.waitForSelector("#connection[data-state=live]");
    await inboxPage.waitForSelector("#inbox[data-mode=inbox]");
  });

  afterAll(async () => {
    await inboxPage?.close();
    await inboxServed?.close();
    connection?.disconnect();
  });

  test("a listener that fails twice: the card shows attempts 1 and 2 failing and the third completing; the panel, 3 attempts", async () => {
    expect(await inboxPage.textContent("#inbox-mode")).toBe("inbox");
    const id = await simulate("crazyhorse", "flaky", inboxPage);
    await inboxPage.waitForSelector(`${card(id)}[data-status=completed]`);
    const log = await inboxPage.$$eval(`${card(id)} .deliveries code`, (codes) => codes.map((code) => code.textContent));
    expect(log.slice(0, 2)).toEqual(["crazyhorse.waiting", "crazyhorse.processing"]);
    expect(log.slice(2).map((line) => line?.replace(/: .*/, ""))).toEqual([
      "crazyhorse.done · attempt 1 failed",
      "crazyhorse.done · attempt 2 failed",
      "crazyhorse.done · attempt 3",
    ]);
    const item = panelItem(`crazyhorse:${id}:done`);
    await inboxPage.waitForSelector(`${item}[data-status=completed]`);
    expect(await inboxPage.textContent(`${item} .attempts`)).toBe("3 attempts");
    expect(await inboxPage.isVisible(`${item} button.replay`)).toBe(true);
  });

  test("a listener that fails until replayed: dead in the panel with its error; Replay completes the card", async () => {
    const id = await simulate("crazyhorse", "dead", inboxPage);
    const key = `crazyhorse:${id}:done`;
    await inboxPage.waitForSelector(`${panelItem(key)}[data-status=dead]`);
    expect(await inboxPage.textContent(`${panelItem(key)} .code`)).toBe("dead");
    expect(await inboxPage.textContent(`${panelItem(key)} .error`)).toContain("a bug in the demo's listener");
    await inboxPage.waitForSelector(`${card(id)} .deliveries li.dead`);
    expect(await inboxPage.getAttribute(`${card(id)}`, "data-status")).toBe("processing");

    await inboxPage.click(`${panelItem(key)} button.replay`);
    await inboxPage.waitForSelector(`${card(id)}[data-status=completed]`);
    expect(await inboxPage.textContent(`${card(id)} .deliveries li:last-child code`)).toBe("crazyhorse.done · replayed");
    await inboxPage.waitForSelector(`${panelItem(key)}[data-status=completed]`);
    expect(await inboxPage.textContent(`${panelItem(key)} .replayed`)).toBe("replayed");
    expect(await inboxPage.textContent("#notice")).toBe(`${key}: replayed, a worker runs it again`);
  });

  test("its cards, with failed attempts, a dead delivery and a replay in their logs, lay out without overlap or overflow", async () => {
    expect(await expectCardsLaidOut(inboxPage)).toContain("crazyhorse completed");
  });

  test("links bull-board, which shows the inbox's queue", async () => {
    expect(await inboxPage.isVisible("#queue-board")).toBe(true);
    const board = await browser.newPage();
    try {
      const response = await board.goto(new URL((await inboxPage.getAttribute("#queue-board", "href")) as string, inboxServed.url).href);
      expect(response?.status()).toBe(200);
      await board.waitForSelector("text=imagegen-webhooks demo");
    } finally {
      await board.close();
    }
  });
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

test("after every outcome, at 1360 and 1280 px wide, no part of a card meets another or leaves the card, the recovered one's included", async () => {
  const cards = await expectCardsLaidOut(page);
  expect(cards).toEqual(
    expect.arrayContaining(["replicate completed (recovered)", "replicate failed", "crazyhorse failed", "all-images completed"]),
  );
});
