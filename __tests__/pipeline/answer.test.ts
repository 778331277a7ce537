// Stage 9, the answer: crazyhorse 200 `success`, all-images 200, after the listeners, in order.
import { aiDelivery, chDelivery, closeAll, expectCrazyhorseOk, HOSTS, postAllImages, postCrazyhorse, setup } from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("success answers", () => {
    test("crazyhorse: 200 text/plain `success`, after the listeners, with the event names in the design's order", async () => {
      const s = await setup(kind);
      const order: string[] = [];
      for (const name of ["crazyhorse.done", "crazyhorse", "generation.completed", "generation", "*"] as const) {
        s.webhooks.on(name, () => void order.push(name));
      }
      const delivery = chDelivery();
      const res = await postCrazyhorse(s, delivery);
      expectCrazyhorseOk(res);
      expect(order).toEqual(["crazyhorse.done", "crazyhorse", "generation.completed", "generation", "*"]);
      const event = s.rec.events[0];
      expect(event).toMatchObject({ id: `${delivery.code}:done`, provider: "crazyhorse", name: "crazyhorse.done", payload: delivery });
      expect(s.rec.invalid).toEqual([]);
    });

    test("all-images: 200 with an empty body", async () => {
      const s = await setup(kind);
      const delivery = aiDelivery("print.progress");
      const res = await postAllImages(s, delivery);
      expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: "" });
      expect(s.rec.events).toHaveLength(1);
      expect(s.rec.events[0]).toMatchObject({ id: delivery.id, name: "all-images.print.progress", payload: delivery });
    });

    test("an async listener is awaited before the answer", async () => {
      const s = await setup(kind);
      let done = false;
      s.webhooks.on("all-images.print.completed", async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        done = true;
      });
      const res = await postAllImages(s, aiDelivery());
      expect(res.status).toBe(200);
      expect(done).toBe(true);
    });
  });
});
