// The demo page: follows the server's /events stream (Server-Sent Events fed by the webhooks
// emitter) and draws one card per generation. Plain DOM, no dependency; text is always set with
// textContent, since deliveries come from outside.
"use strict";

const STEPS = ["queued", "processing", "progress", "completed"];
// Deliveries arrive out of order and twice: a card only moves forward.
// "tracked": known from generations.track() before any webhook came.
const RANK = { unknown: -1, tracked: -0.5, queued: 0, processing: 1, progress: 2, completed: 3, failed: 3 };
const PROVIDER_LABEL = {
  crazyhorse: "crazyhorse.ai",
  "all-images": "all-images.ai",
  replicate: "replicate.com",
  leonardo: "leonardo.ai",
  bfl: "bfl.ai",
  fal: "fal.ai",
  ideogram: "ideogram.ai",
  openai: "openai.com",
};

const cards = new Map();
// image.failed comes before its delivery's events: a generation's first images may fail before its card exists.
const pendingImageFailures = new Map();
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(value) {
  return new Date(value).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

function isWebUrl(url) {
  try {
    const { protocol } = new URL(url, location.href);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

function isImageData(url) {
  return typeof url === "string" && /^data:image\/(png|jpeg|webp|gif);base64,/.test(url);
}

function createCard(delivery) {
  const { provider, id } = delivery.generation;
  const card = el("article", "card");
  card.dataset.provider = provider;
  card.dataset.generation = id;
  const head = el("div", "card-head");
  head.append(el("span", "provider", PROVIDER_LABEL[provider] || provider), el("span", "status"));
  const steps = el("ol", "steps");
  for (const step of STEPS) {
    const li = el("li", "", step);
    li.dataset.step = step;
    steps.append(li);
  }
  const failure = el("p", "failure");
  failure.hidden = true;
  const recovered = el("p", "recovered", "recovered from the API: its final webhook never came");
  recovered.hidden = true;
  // The app's own metadata, given to generations.track() and carried by each of its events.
  const metadata = el("p", "metadata");
  metadata.hidden = true;
  card.append(
    head,
    el("h3", "caption", delivery.caption),
    el("code", "gen-id", id),
    steps,
    failure,
    recovered,
    metadata,
    el("div", "images"),
    el("ul", "deliveries"),
  );
  const state = { card, status: "unknown", images: [], expected: 0, failure: "", recovered: false, metadata: undefined };
  cards.set(`${provider}:${id}`, state);
  $("cards").prepend(card);
  $("empty").hidden = true;
  for (const failed of pendingImageFailures.get(`${provider}:${id}`) || []) appendImageFailure(state, failed);
  pendingImageFailures.delete(`${provider}:${id}`);
  return state;
}

function render(state) {
  const { card, status, images } = state;
  card.dataset.status = status;
  const expected = Math.max(state.expected, images.length);
  const label = status === "progress" ? `progress ${images.length}/${expected || "?"}` : status;
  card.querySelector(".status").textContent = label;

  const rank = RANK[status] ?? -1;
  for (const li of card.querySelectorAll(".steps li")) {
    const step = li.dataset.step;
    const stepRank = RANK[step];
    li.className = stepRank < rank || (stepRank === rank && status !== "failed") ? "done" : "";
    if (step === status) li.classList.add("current");
    // crazyhorse reports no progress: its images come all at once.
    if (step === "progress" && card.dataset.provider === "crazyhorse") li.classList.add("skipped");
    if (step === "completed") {
      li.textContent = status === "failed" ? "failed" : "completed";
      if (status === "failed") li.className = "failed current";
    }
  }

  // Why it failed, when the provider said.
  const failure = card.querySelector(".failure");
  failure.hidden = !(status === "failed" && state.failure);
  failure.textContent = state.failure;
  card.querySelector(".recovered").hidden = !state.recovered;
  const metadata = card.querySelector(".metadata");
  metadata.hidden = state.metadata === undefined;
  metadata.textContent = state.metadata === undefined ? "" : `metadata ${JSON.stringify(state.metadata)}`;
  metadata.title = metadata.textContent;
  card.classList.toggle("is-recovered", state.recovered);

  const grid = card.querySelector(".images");
  while (grid.children.length < expected) grid.append(el("figure", "slot"));
  images.forEach((image, i) => {
    const slot = grid.children[i];
    // The kept copy outlives the provider's URL: show it once there is one.
    const source = image.keptUrl && isWebUrl(image.keptUrl) ? image.keptUrl : image.url;
    let img = slot.querySelector("img");
    if (!img) {
      slot.classList.add("filled");
      img = el("img");
      img.alt = `image ${i + 1} of ${card.querySelector(".caption").textContent}`;
      slot.append(img);
    }
    if (img.getAttribute("src") !== source) img.src = source;
    slot.classList.toggle("kept", source !== image.url);
    const original = isImageData(image.url) ? "the image's bytes, as the provider sent them" : image.url;
    slot.title = source !== image.url ? `kept copy of ${original}` : original;
  });
}

function onDelivery(delivery) {
  const { generation } = delivery;
  const state = cards.get(`${generation.provider}:${generation.id}`) || createCard(delivery);
  const terminal = state.status === "completed" || state.status === "failed";
  if (!terminal && (RANK[generation.status] ?? -1) >= (RANK[state.status] ?? -1)) state.status = generation.status;
  for (const image of generation.images) {
    // An image that came as bytes (OpenAI's) has a data: URL of them, which an <img> shows as it is.
    if (!isWebUrl(image.url) && !isImageData(image.url)) continue;
    const known = state.images.findIndex((seen) => seen.url === image.url);
    if (known < 0) state.images.push(image);
    else if (image.keptUrl && !state.images[known].keptUrl) state.images[known] = image;
  }
  if (delivery.origin === "reconciled") state.recovered = true;
  if (generation.metadata) state.metadata = generation.metadata;
  state.expected = Math.max(state.expected, delivery.expectedImages || 0);
  if (delivery.failure) state.failure = delivery.failure;

  // In inbox mode a delivery may run more than once: say which run this was.
  const run = delivery.replayed ? " · replayed" : delivery.attempt > 1 ? ` · attempt ${delivery.attempt}` : "";
  const recovered = delivery.origin === "reconciled" ? " · recovered from the API" : "";
  // "reconciled", not the banner's "recovered": a line of that class took the banner's style.
  appendDelivery(state.card, delivery.receivedAt, `${delivery.name}${run}${recovered}`, recovered ? "reconciled" : "");
  render(state);
}

function appendDelivery(card, at, text, className) {
  const item = el("li", className);
  // One line each, so that the log scrolls by whole lines; the full text on hover.
  item.title = text;
  item.append(el("time", "", clock(at)), el("code", "", text));
  const list = card.querySelector(".deliveries");
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

function cardOf(provider, generationId) {
  return cards.get(`${provider}:${generationId}`);
}

function appendImageFailure(state, { index, reason, message, at }) {
  appendDelivery(state.card, at, `image ${index + 1} not kept: ${reason}: ${message}`, "image-failed");
}

// POST /generate tracked a generation (generations.track()): its card, before any webhook for it.
function onTracked({ provider, generationId, caption, metadata, at }) {
  const state = cardOf(provider, generationId) || createCard({ generation: { provider, id: generationId }, caption });
  if (state.status === "unknown") state.status = "tracked";
  state.metadata = metadata;
  appendDelivery(state.card, at, "tracked: generations.track(), with its metadata", "tracked");
  render(state);
}

function onImageFailed(failed) {
  const key = `${failed.provider}:${failed.generationId}`;
  const state = cards.get(key);
  if (state) appendImageFailure(state, failed);
  else pendingImageFailures.set(key, [...(pendingImageFailures.get(key) || []), failed]);
}

// The durable inbox's deliveries (GET deliveries, then the "deliveries" snapshots of the stream).
const STATUS_LABEL = { queued: "queued", active: "running", retrying: "retrying", completed: "done", dead: "dead" };

function showInboxMode(inbox) {
  $("inbox").dataset.mode = inbox ? "inbox" : "memory";
  $("inbox-mode").textContent = inbox ? "inbox" : "in memory";
  $("inbox-hint").hidden = !inbox;
  $("inbox-memory").hidden = inbox;
  $("deliveries").hidden = !inbox;
  $("queue-board").hidden = !inbox;
  for (const option of document.querySelectorAll("#outcome option[data-needs-inbox]")) {
    option.disabled = !inbox;
    option.dataset.label ??= option.textContent;
    option.textContent = inbox ? option.dataset.label : `${option.dataset.label} (needs REDIS_URL)`;
  }
}

function renderDeliveries(deliveries) {
  const list = $("deliveries");
  list.replaceChildren(
    ...deliveries.map((delivery) => {
      const li = el("li");
      li.dataset.key = delivery.key;
      li.dataset.status = delivery.status;
      const what = el("span", "what", delivery.name);
      what.append(el("small", "", delivery.key));
      const attempts = el("span", "attempts", `${delivery.attempts} ${delivery.attempts === 1 ? "attempt" : "attempts"}`);
      li.append(el("span", "code", STATUS_LABEL[delivery.status] || delivery.status), what, attempts);
      if (delivery.replayed) li.append(el("span", "replayed", "replayed"));
      if (delivery.error) li.append(el("small", "error", delivery.error));
      if (delivery.status === "completed" || delivery.status === "dead") {
        const replay = el("button", "replay", "Replay");
        replay.type = "button";
        replay.addEventListener("click", () => replayDelivery(delivery.key, replay));
        li.append(replay);
      }
      return li;
    }),
  );
}

async function loadDeliveries() {
  try {
    const response = await fetch("deliveries");
    const { inbox, deliveries } = await response.json();
    showInboxMode(inbox);
    if (inbox) renderDeliveries(deliveries);
  } catch (err) {
    notify(`could not read the deliveries: ${err.message}`, true);
  }
}

async function replayDelivery(key, button) {
  button.disabled = true;
  try {
    const { response, body } = await post(`deliveries/${encodeURIComponent(key)}/replay`);
    if (response.ok) notify(`${key}: replayed, a worker runs it again`);
    else notify(body.error || `the replay was refused: ${response.status}`, true);
  } catch (err) {
    notify(`could not reach the demo: ${err.message}`, true);
  } finally {
    button.disabled = false;
  }
}

function logItem(listId, countId, code, what, detail, at) {
  const li = el("li");
  const text = el("span", "what", what);
  text.append(el("small", "", detail));
  li.append(el("span", "code", code), text, el("time", "", clock(at)));
  $(listId).prepend(li);
  $(countId).textContent = String($(listId).children.length);
}

function connect() {
  const source = new EventSource("events");
  const connection = $("connection");
  source.addEventListener("open", () => {
    connection.dataset.state = "live";
    connection.textContent = "live";
    // The snapshots that follow come only when something changes: start from the current one.
    void loadDeliveries();
  });
  source.addEventListener("error", () => {
    connection.dataset.state = "connecting";
    connection.textContent = "reconnecting…";
  });
  source.addEventListener("delivery", (message) => onDelivery(JSON.parse(message.data)));
  source.addEventListener("invalid", (message) => {
    const { provider, status, reason, at } = JSON.parse(message.data);
    logItem("invalid", "invalid-count", String(status), reason, `to ${provider}`, at);
  });
  source.addEventListener("duplicate", (message) => {
    const { name, deliveryId, provider, generationId, at } = JSON.parse(message.data);
    logItem("duplicates", "duplicate-count", "200", name, deliveryId, at);
    const state = cardOf(provider, generationId);
    if (state) appendDelivery(state.card, at, `${name} again: duplicate, not emitted`, "duplicate");
  });
  source.addEventListener("attempt-failed", (message) => {
    const { name, provider, generationId, attempt, message: reason, at } = JSON.parse(message.data);
    const state = cardOf(provider, generationId);
    if (state) appendDelivery(state.card, at, `${name} · attempt ${attempt} failed: ${reason}`, "failed-attempt");
  });
  source.addEventListener("dead", (message) => {
    const { name, provider, generationId, attempts, at } = JSON.parse(message.data);
    const state = cardOf(provider, generationId);
    if (state) appendDelivery(state.card, at, `${name} · dead after ${attempts} attempts: replay it from Deliveries`, "dead");
  });
  source.addEventListener("image-failed", (message) => onImageFailed(JSON.parse(message.data)));
  source.addEventListener("tracked", (message) => onTracked(JSON.parse(message.data)));
  source.addEventListener("deliveries", (message) => renderDeliveries(JSON.parse(message.data).deliveries));
}

function notify(text, bad) {
  const notice = $("notice");
  notice.textContent = text;
  notice.classList.toggle("bad", Boolean(bad));
}

async function post(path) {
  const response = await fetch(path, { method: "POST" });
  const body = await response.json().catch(() => ({}));
  return { response, body };
}

for (const button of document.querySelectorAll("button.simulate")) {
  button.addEventListener("click", async () => {
    const provider = button.dataset.provider;
    try {
      const { response, body } = await post(`simulate/${provider}?outcome=${encodeURIComponent($("outcome").value)}`);
      if (response.ok) notify(`${provider} job ${body.id}: ${body.deliveries} deliveries on their way`);
      else notify(body.error || `the simulation was refused: ${response.status}`, true);
    } catch (err) {
      notify(`could not reach the demo: ${err.message}`, true);
    }
  });
}

$("forge").addEventListener("click", async () => {
  try {
    const { body } = await post("simulate/forged");
    notify(`forged delivery (wrong token) answered ${body.status}`, true);
  } catch (err) {
    notify(`could not reach the demo: ${err.message}`, true);
  }
});

const base = `${location.origin}${location.pathname.replace(/[^/]*$/, "")}`;
$("url-crazyhorse").textContent = `${base}webhooks/crazyhorse?token=<CRAZYHORSE_WEBHOOK_SECRET>`;
$("url-all-images").textContent = `${base}webhooks/all-images?token=<ALLIMAGES_WEBHOOK_SECRET>`;
$("url-replicate").textContent = `${base}webhooks/replicate (signed with REPLICATE_WEBHOOK_SECRET)`;
$("url-openai").textContent = `${base}webhooks/openai (signed with OPENAI_WEBHOOK_SECRET)`;
$("cli-example").textContent =
  `npx tsx lib/cli/index.ts simulate all-images --url ${base}webhooks/all-images --secret demo-all-images-secret --image-base-url ${base}storage/`;
connect();
