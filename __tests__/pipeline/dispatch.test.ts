// Stage 8, dispatch: a listener that fails is 500 and `error` (the retry is handled), listeners
// slower than handlerTimeoutMs are 202 and go on.
import { deferred } from "../helpers/deferred";
import {
  aiDelivery,
  chDelivery,
  closeAll,
  expectCrazyhorseOk,
  expectProblem,
  HOSTS,
  MARKER,
  postAllImages,
  postCrazyhorse,
  setup,
} from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("listeners that fail or take long", () => {
    test("a throwing listener: 500 problem+json (its message not echoed), `error` emitted; the retry is handled and the listener called again", async () => {
      const s = await setup(kind);
      let calls = 0;
      s.webhooks.on("crazyhorse.done", () => {
        calls++;
        if (calls === 1) throw new Error(`database refused: ${MARKER}`);
      });
      const delivery = chDelivery();
      const res = await postCrazyhorse(s, delivery);
      expectProblem(res, 500, "handler.failed");
      expect(s.rec.errors).toHaveLength(1);
      expect(s.rec.errors[0]?.event).toMatchObject({ id: `${delivery.code}:done`, payload: delivery });
      expect(s.rec.duplicates).toEqual([]);

      const retry = await postCrazyhorse(s, delivery);
      expectCrazyhorseOk(retry);
      expect(calls).toBe(2);
      expect(s.rec.duplicates).toEqual([]);
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
    });

    test("a rejecting async listener: 500, and the retry is handled", async () => {
      const s = await setup(kind);
      let calls = 0;
      s.webhooks.on("all-images", async () => {
        calls++;
        await Promise.resolve();
        if (calls === 1) throw new Error("nope");
      });
      const delivery = aiDelivery();
      expectProblem(await postAllImages(s, delivery), 500, "handler.failed");
      expect(s.rec.errors).toHaveLength(1);
      expect((await postAllImages(s, delivery)).status).toBe(200);
      expect(calls).toBe(2);
      expect(s.rec.duplicates).toEqual([]);
    });

    test("listeners slower than handlerTimeoutMs: 202 now; they go on, and once done the delivery is remembered", async () => {
      const s = await setup(kind, { handlerTimeoutMs: 50 });
      const hold = deferred();
      let finished = false;
      s.webhooks.on("crazyhorse.done", async () => {
        await hold.promise;
        finished = true;
      });
      const delivery = chDelivery();
      try {
        const res = await postCrazyhorse(s, delivery);
        expect(res.status).toBe(202);
        expect(finished).toBe(false);
        expect(s.rec.events).toEqual([]); // `*` comes after the held listener
      } finally {
        hold.resolve();
      }
      await s.webhooks.close();
      expect(finished).toBe(true);
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
      expect(s.rec.errors).toEqual([]);
    });

    test("after a 202, a copy while the listener runs is 409; a later failure is reported through `error` and releases the key", async () => {
      const s = await setup(kind, { handlerTimeoutMs: 30 });
      const hold = deferred();
      const errored = deferred();
      s.webhooks.on("error", () => errored.resolve());
      let calls = 0;
      s.webhooks.on("all-images.print.completed", async () => {
        calls++;
        if (calls === 1) await hold.promise;
      });
      const delivery = aiDelivery();
      try {
        expect((await postAllImages(s, delivery)).status).toBe(202);
        const copy = await postAllImages(s, delivery);
        expectProblem(copy, 409, "delivery.in-flight");
        expect(copy.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      } finally {
        hold.reject(new Error("late failure"));
      }
      // The late failure is settled (the key released) before `error` is emitted.
      await errored.promise;
      expect(s.rec.errors).toHaveLength(1);
      expect(s.rec.errors[0]?.event?.id).toBe(delivery.id);

      expect((await postAllImages(s, delivery)).status).toBe(200);
      expect(calls).toBe(2);
      expect(s.rec.events.map((e) => e.id)).toEqual([delivery.id]);
    });
  });
});
