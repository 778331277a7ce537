// Stage 1, the route: one POST route per provider (at `/<provider>` or its `path`), 405 for another
// method, and every other path left to the host (Express) or answered 404 (a bare server).
import express from "express";
import request from "supertest";
import {
  AI_SECRET,
  aiDelivery,
  chDelivery,
  closeAll,
  expectCrazyhorseOk,
  expectNothingEmitted,
  expectOnlyInvalid,
  expectProblem,
  HOSTS,
  postAllImages,
  postCrazyhorse,
  rawRequest,
  receiver,
  record,
  SECRET,
  serve,
  setup,
} from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("routing", () => {
    test("serves one POST route per provider at /<provider>", async () => {
      const s = await setup(kind);
      const ch = chDelivery();
      const ai = aiDelivery();
      expectCrazyhorseOk(await postCrazyhorse(s, ch));
      const res = await postAllImages(s, ai);
      expect(res.status).toBe(200);
      expect(s.rec.names).toEqual(["crazyhorse.done", "all-images.print.completed"]);
      expect(s.rec.events.map((e) => e.payload)).toEqual([ch, ai]);
    });

    test("accepts the provider path with a trailing slash, and with a query string after it", async () => {
      const s = await setup(kind);
      const res = await s.http
        .post(`${s.prefix}/crazyhorse/?token=${SECRET}`)
        .set("content-type", "application/json")
        .send(JSON.stringify(chDelivery()));
      expectCrazyhorseOk(res);
      expect(s.rec.names).toEqual(["crazyhorse.done"]);
    });

    test("serves a provider at its custom `path` (trailing slash in the option or the request alike), and no longer at /<provider>", async () => {
      const s = await setup(kind, {
        providers: { crazyhorse: { secret: SECRET, path: "/hooks/ch/" }, "all-images": { secret: AI_SECRET, path: "/ai" } },
      });
      const one = await s.http.post(`${s.prefix}/hooks/ch`).set("x-webhook-token", SECRET).send(chDelivery());
      expectCrazyhorseOk(one);
      const two = await s.http.post(`${s.prefix}/hooks/ch/`).set("x-webhook-token", SECRET).send(chDelivery());
      expectCrazyhorseOk(two);
      const three = await s.http.post(`${s.prefix}/ai`).set("x-webhook-token", AI_SECRET).send(aiDelivery());
      expect(three.status).toBe(200);
      expect(s.rec.names).toEqual(["crazyhorse.done", "crazyhorse.done", "all-images.print.completed"]);

      const old = await s.http.post(`${s.prefix}/crazyhorse`).set("x-webhook-token", SECRET).send(chDelivery());
      expect(old.status).toBe(404);
      expect(s.rec.names).toHaveLength(3);
      expect(s.rec.invalid).toEqual([]);
    });

    test.each(["GET", "PUT", "DELETE"])("%s on a provider path answers 405 with Allow: POST and emits only `invalid`", async (method) => {
      const s = await setup(kind);
      const res = await rawRequest(
        s.server,
        `${s.prefix}/crazyhorse?token=${SECRET}`,
        { "content-type": "application/json" },
        method === "GET" ? undefined : Buffer.from(JSON.stringify(chDelivery())),
        method,
      );
      expectProblem(res, 405, "method.not-allowed");
      expect(res.headers["allow"]).toBe("POST");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 405, reason: "method.not-allowed" });
    });

    test("405 also on a custom path and with a trailing slash", async () => {
      const s = await setup(kind, { providers: { "all-images": { secret: AI_SECRET, path: "/ai" } } });
      const res = await s.http.get(`${s.prefix}/ai/`);
      expectProblem(res, 405, "method.not-allowed");
      expect(res.headers["allow"]).toBe("POST");
    });
  });
});

describe("paths that are not a provider's", () => {
  test("bare server: any other path answers 404 problem+json, and nothing is emitted", async () => {
    const s = await setup("bare");
    for (const path of ["/", "/other", "/crazyhorse/extra", "/crazyhorsex", "/webhooks/crazyhorse"]) {
      const res = await s.http.post(path).set("x-webhook-token", SECRET).send(chDelivery());
      expectProblem(res, 404, "route.not-found");
    }
    expectProblem(await s.http.get("/nothing"), 404, "route.not-found");
    expectNothingEmitted(s.rec);
  });

  test("Express: other paths below the mount point fall through to the host's own routes, which still answer", async () => {
    const webhooks = receiver();
    const rec = record(webhooks);
    const app = express();
    app.use("/webhooks", webhooks.middleware());
    app.get("/webhooks/health", (_req, res) => void res.json({ ok: true }));
    app.post("/webhooks/crazyhorse/extra", (_req, res) => void res.status(202).send("host extra"));
    const http = request(await serve(app));

    const health = await http.get("/webhooks/health");
    expect({ status: health.status, body: health.body as unknown }).toEqual({ status: 200, body: { ok: true } });
    const extra = await http.post("/webhooks/crazyhorse/extra").set("x-webhook-token", SECRET).send(chDelivery());
    expect({ status: extra.status, text: extra.text }).toEqual({ status: 202, text: "host extra" });

    // No host route: Express's own 404, not the middleware's problem document.
    const unknown = await http.post("/webhooks/unknown-provider").set("x-webhook-token", SECRET).send(chDelivery());
    expect(unknown.status).toBe(404);
    expect(unknown.headers["content-type"]).not.toMatch(/problem\+json/);
    expectNothingEmitted(rec);
  });

  test('Express: a mount at a provider\'s full path, app.use("/webhooks/crazyhorse", …), serves that provider', async () => {
    const webhooks = receiver();
    const rec = record(webhooks);
    const app = express();
    app.use("/webhooks/crazyhorse", webhooks.middleware());
    app.use("/hooks/all-images/", webhooks.middleware());
    const http = request(await serve(app));
    expectCrazyhorseOk(await http.post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(chDelivery()));
    const ai = await http.post("/hooks/all-images?token=" + AI_SECRET).send(aiDelivery());
    expect(ai.status).toBe(200);
    expect(rec.names).toEqual(["crazyhorse.done", "all-images.print.completed"]);
    // Below a full-path mount, other paths are still the host's.
    expect((await http.post("/webhooks/crazyhorse/other").set("x-webhook-token", SECRET).send(chDelivery())).status).toBe(404);
  });

  test("Express: a mount whose path ends with two providers' paths is not guessed: it falls through, and one warning says how to mount", async () => {
    const warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const webhooks = receiver({
        providers: { crazyhorse: { secret: SECRET, path: "/a/b" }, "all-images": { secret: AI_SECRET, path: "/b" } },
      });
      const rec = record(webhooks);
      const app = express();
      app.use("/x/a/b", webhooks.middleware());
      const http = request(await serve(app));
      expect((await http.post("/x/a/b").set("x-webhook-token", SECRET).send(chDelivery())).status).toBe(404);
      expect((await http.post("/x/a/b").set("x-webhook-token", SECRET).send(chDelivery())).status).toBe(404);
      expectNothingEmitted(rec);
      expect(warnings.mock.calls.map(([message]) => String(message))).toEqual([
        expect.stringMatching(/mounted at \/x\/a\/b[\s\S]*app\.use\("\/webhooks", webhooks\.middleware\(\)\)/),
      ]);
    } finally {
      warnings.mockRestore();
    }
  });

  test.each([
    ["app.use(mw)", (app: express.Express, mw: express.RequestHandler) => app.use(mw)],
    ['app.post("/webhooks/:provider", mw)', (app: express.Express, mw: express.RequestHandler) => app.post("/webhooks/:provider", mw)],
    ['app.use("/webhooks/v1", mw)', (app: express.Express, mw: express.RequestHandler) => app.use("/webhooks/v1", mw)],
  ])(
    "Express: %s, a mount that leaves POST /webhooks/crazyhorse unrouted, falls through and warns once with the README's mount",
    async (_name, mount) => {
      const warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
      try {
        const webhooks = receiver({ providers: { crazyhorse: { secret: SECRET } } });
        const rec = record(webhooks);
        const app = express();
        mount(app, webhooks.middleware() as express.RequestHandler);
        const http = request(await serve(app));
        for (const path of ["/webhooks/crazyhorse", "/webhooks/v1/webhooks/crazyhorse", "/webhooks/crazyhorse"]) {
          expect((await http.post(path).set("x-webhook-token", SECRET).send(chDelivery())).status).toBe(404);
        }
        expectNothingEmitted(rec);
        expect(warnings.mock.calls.map(([message]) => String(message))).toEqual([
          expect.stringMatching(/ends with \/crazyhorse[\s\S]*app\.use\("\/webhooks", webhooks\.middleware\(\)\)/),
        ]);
      } finally {
        warnings.mockRestore();
      }
    },
  );

  test("Express: a path that is not a provider's says nothing", async () => {
    const warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const app = express();
      app.use(receiver({ providers: { crazyhorse: { secret: SECRET } } }).middleware());
      const http = request(await serve(app));
      expect((await http.post("/webhooks/other").send(chDelivery())).status).toBe(404);
      expect(warnings).not.toHaveBeenCalled();
    } finally {
      warnings.mockRestore();
    }
  });

  test("Express: a custom path frees /<provider> for the host", async () => {
    const webhooks = receiver({ providers: { crazyhorse: { secret: SECRET, path: "/ch" } } });
    const rec = record(webhooks);
    const app = express();
    app.use("/webhooks", webhooks.middleware());
    app.post("/webhooks/crazyhorse", (_req, res) => void res.status(201).send("host"));
    const http = request(await serve(app));
    const res = await http.post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(chDelivery());
    expect({ status: res.status, text: res.text }).toEqual({ status: 201, text: "host" });
    expectCrazyhorseOk(await http.post("/webhooks/ch").set("x-webhook-token", SECRET).send(chDelivery()));
    expect(rec.names).toEqual(["crazyhorse.done"]);
  });

  test("Express: the middleware never answers for a host route, and leaves its body unread (POST /other reaches the host's handler)", async () => {
    const webhooks = receiver();
    const rec = record(webhooks);
    const app = express();
    app.use(webhooks.middleware()); // mounted at the root, before everything
    app.use("/webhooks", webhooks.middleware());
    app.post("/other", express.json(), (req, res) => void res.status(201).json({ host: true, got: req.body as unknown }));
    app.post("/webhooks/other", express.json(), (req, res) => void res.status(201).json({ host: true, got: req.body as unknown }));
    const http = request(await serve(app));

    for (const path of ["/other", "/webhooks/other"]) {
      const res = await http.post(path).set("x-webhook-token", SECRET).send({ hello: "host" });
      expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 201, body: { host: true, got: { hello: "host" } } });
    }
    const get = await http.get("/other");
    expect(get.status).toBe(404);
    expect(get.headers["content-type"]).not.toMatch(/problem\+json/);
    expectNothingEmitted(rec);

    // The root mount still serves its own provider path.
    expectCrazyhorseOk(await http.post("/crazyhorse").set("x-webhook-token", SECRET).send(chDelivery()));
    expect(rec.names).toEqual(["crazyhorse.done"]);
  });
});
