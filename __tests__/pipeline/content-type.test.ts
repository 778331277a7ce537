// Stage 3, the content type: `application/json` (any charset parameter), else 415.
import {
  AI_SECRET,
  aiDelivery,
  chDelivery,
  closeAll,
  expectCrazyhorseOk,
  expectOnlyInvalid,
  expectProblem,
  HOSTS,
  rawRequest,
  SECRET,
  setup,
} from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("content type", () => {
    test("a missing Content-Type is refused with 415, only `invalid` emitted", async () => {
      const s = await setup(kind);
      const res = await rawRequest(
        s.server,
        `${s.prefix}/crazyhorse`,
        { "x-webhook-token": SECRET },
        Buffer.from(JSON.stringify(chDelivery())),
      );
      expect(expectProblem(res, 415, "content-type.unsupported").detail).toBe(
        "received no Content-Type; expected application/json (any charset)",
      );
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 415, reason: "content-type.unsupported" });
    });

    test.each(["text/plain", "application/x-www-form-urlencoded", "application/octet-stream", "application/jsonx", "text/json"])(
      "Content-Type %s is refused with 415, only `invalid` emitted",
      async (type) => {
        const s = await setup(kind);
        const res = await s.http
          .post(`${s.prefix}/all-images`)
          .set("content-type", type)
          .set("x-webhook-token", AI_SECRET)
          .send(JSON.stringify(aiDelivery()));
        // RFC 9457 `detail`: the type that arrived and the one expected, so the sender's mistake is plain.
        expect(expectProblem(res, 415, "content-type.unsupported").detail).toBe(
          `received Content-Type "${type.toLowerCase()}"; expected application/json (any charset)`,
        );
        expectOnlyInvalid(s.rec, { provider: "all-images", status: 415, reason: "content-type.unsupported" });
      },
    );

    test.each(["application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"])(
      "Content-Type %s is accepted",
      async (type) => {
        const s = await setup(kind);
        const delivery = chDelivery();
        const res = await s.http
          .post(`${s.prefix}/crazyhorse`)
          .set("content-type", type)
          .set("x-webhook-token", SECRET)
          .send(JSON.stringify(delivery));
        expectCrazyhorseOk(res);
        expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
      },
    );
  });
});
