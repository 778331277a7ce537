// Stage 7, dedupe: a copy of a handled delivery is 200 and `duplicate`, a copy in flight 409, an
// unreachable store 503 (both with Retry-After).
import type { DedupeStore } from "imagegen-webhooks";
import { deferred } from "../helpers/deferred";
import {
  AI_SECRET,
  aiDelivery,
  chDelivery,
  closeAll,
  expectCrazyhorseOk,
  expectNothingEmitted,
  expectProblem,
  HOSTS,
  postAllImages,
  postCrazyhorse,
  setup,
} from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("dedupe", () => {
    test("the same delivery twice: 200 both times, the second emits `duplicate` and not the events", async () => {
      const s = await setup(kind);
      const delivery = chDelivery();
      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expect(s.rec.names).toEqual(["crazyhorse.done"]);
      expect(s.rec.duplicates).toHaveLength(1);
      expect(s.rec.duplicates[0]).toMatchObject({ id: `${delivery.code}:done`, name: "crazyhorse.done", payload: delivery });
      expect(s.rec.invalid).toEqual([]);
    });

    test("all-images: the same envelope id twice is one delivery, even with the token in another place", async () => {
      const s = await setup(kind);
      const delivery = aiDelivery();
      expect((await postAllImages(s, delivery)).status).toBe(200);
      const again = await s.http
        .post(`${s.prefix}/all-images?token=${AI_SECRET}`)
        .set("content-type", "application/json")
        .send(JSON.stringify(delivery));
      expect({ status: again.status, text: again.text }).toEqual({ status: 200, text: "" });
      expect(s.rec.events).toHaveLength(1);
      expect(s.rec.duplicates.map((e) => e.id)).toEqual([delivery.id]);
    });

    test("one crazyhorse job in two states is two deliveries", async () => {
      const s = await setup(kind);
      const waiting = chDelivery({ state: "WAITING" });
      const done = chDelivery({ code: waiting.code });
      expectCrazyhorseOk(await postCrazyhorse(s, waiting));
      expectCrazyhorseOk(await postCrazyhorse(s, done));
      expect(s.rec.names).toEqual(["crazyhorse.waiting", "crazyhorse.done"]);
      expect(s.rec.duplicates).toEqual([]);
    });

    test("with `dedupe: false` the same delivery is emitted each time", async () => {
      const s = await setup(kind, { dedupe: false });
      const delivery = aiDelivery();
      await postAllImages(s, delivery);
      await postAllImages(s, delivery);
      expect(s.rec.events).toHaveLength(2);
      expect(s.rec.duplicates).toEqual([]);
    });

    test("a copy sent while the first's async listener still runs gets 409 with Retry-After; after it, a copy is a duplicate", async () => {
      const s = await setup(kind);
      const hold = deferred();
      const entered = deferred();
      let calls = 0;
      s.webhooks.on("crazyhorse.done", async () => {
        calls++;
        entered.resolve();
        await hold.promise;
      });
      const delivery = chDelivery();
      const first = postCrazyhorse(s, delivery).then((res) => res);
      try {
        await entered.promise;
        const second = await postCrazyhorse(s, delivery);
        expectProblem(second, 409, "delivery.in-flight");
        expect(second.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
        expect(calls).toBe(1);
        expect(s.rec.events).toEqual([]);
        expect(s.rec.duplicates).toEqual([]);
      } finally {
        hold.resolve();
      }
      expectCrazyhorseOk(await first);
      expect(calls).toBe(1);
      expect(s.rec.names).toEqual(["crazyhorse.done"]);

      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expect(s.rec.duplicates).toHaveLength(1);
      expect(calls).toBe(1);
    });

    test("a store whose claim rejects: 503 with Retry-After, nothing emitted (not even `invalid`), the store's error not echoed", async () => {
      const store: DedupeStore = {
        claim: () => Promise.reject(new Error("ECONNREFUSED redis://admin:hunter2@10.0.0.7:6379")),
        complete: () => undefined,
        release: () => undefined,
      };
      const s = await setup(kind, { dedupe: store });
      const calls: string[] = [];
      s.webhooks.on("crazyhorse.done", () => void calls.push("listener"));
      const res = await postCrazyhorse(s, chDelivery());
      expectProblem(res, 503, "store.unavailable");
      expect(res.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      expect(res.text).not.toContain("hunter2");
      expect(calls).toEqual([]);
      expectNothingEmitted(s.rec);
    });

    test("a store whose claim throws synchronously is a 503 too; once the store is back, the provider's retry is handled", async () => {
      let down = true;
      const claimed: string[] = [];
      const store: DedupeStore = {
        claim: (key) => {
          if (down) throw new Error("store down");
          claimed.push(key);
          return "claimed";
        },
        complete: () => undefined,
        release: () => undefined,
      };
      const s = await setup(kind, { dedupe: store });
      const delivery = aiDelivery();
      const res = await postAllImages(s, delivery);
      expectProblem(res, 503, "store.unavailable");
      expect(res.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      expectNothingEmitted(s.rec);

      down = false;
      expect((await postAllImages(s, delivery)).status).toBe(200);
      expect(s.rec.events.map((e) => e.id)).toEqual([delivery.id]);
      expect(claimed).toEqual([`all-images:${delivery.id}`]);
    });
  });
});
