// Stage 4, authentication by token: a provider's `secret` (any of a rotation) in `?token=`,
// `Authorization: Bearer` or `X-Webhook-Token`, else 401 with no detail of why. Signatures: signature.test.ts.
import request from "supertest";
import {
  AI_SECRET,
  aiDelivery,
  chDelivery,
  closeAll,
  expectCrazyhorseOk,
  expectOnlyInvalid,
  expectProblem,
  HOSTS,
  MARKER,
  postAllImages,
  postCrazyhorse,
  SECRET,
  setup,
} from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("authentication", () => {
    test("a delivery with no token is refused with 401, only `invalid` emitted", async () => {
      const s = await setup(kind);
      const res = await postCrazyhorse(s, chDelivery(), null);
      expectProblem(res, 401, "auth.failed");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 401, reason: "auth.failed" });
    });

    const PLACES: [string, (r: request.Test, token: string) => request.Test, (path: string, token: string) => string][] = [
      ["?token=", (r) => r, (path, token) => `${path}?token=${encodeURIComponent(token)}`],
      ["Authorization: Bearer", (r, token) => r.set("authorization", `Bearer ${token}`), (path) => path],
      ["X-Webhook-Token", (r, token) => r.set("x-webhook-token", token), (path) => path],
    ];

    test.each(PLACES)("the token is accepted in %s", async (_place, setToken, url) => {
      const s = await setup(kind);
      const delivery = chDelivery();
      const res = await setToken(s.http.post(url(`${s.prefix}/crazyhorse`, SECRET)), SECRET)
        .set("content-type", "application/json")
        .send(JSON.stringify(delivery));
      expectCrazyhorseOk(res);
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
      expect(s.rec.invalid).toEqual([]);
    });

    test.each(PLACES)(
      "a wrong token in %s is refused with 401, says nothing of why, and emits only `invalid`",
      async (_place, setToken, url) => {
        const s = await setup(kind);
        const wrong = `${SECRET}-wrong`;
        const res = await setToken(s.http.post(url(`${s.prefix}/crazyhorse`, wrong)), wrong)
          .set("content-type", "application/json")
          .send(JSON.stringify(chDelivery()));
        expectProblem(res, 401, "auth.failed");
        expect(res.text).not.toContain(wrong);
        expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 401, reason: "auth.failed" });
      },
    );

    test("the other provider's secret is not accepted", async () => {
      const s = await setup(kind);
      expectProblem(await postCrazyhorse(s, chDelivery(), AI_SECRET), 401, "auth.failed");
      expectProblem(await postAllImages(s, aiDelivery(), SECRET), 401, "auth.failed");
      expect(s.rec.events).toEqual([]);
    });

    test("every secret of a rotation array is accepted, in each place; another is not", async () => {
      const secrets = ["rotation-old-secret-a1", "rotation-new-secret-b2", "rotation-next-secret-c3"];
      const s = await setup(kind, { providers: { "all-images": { secret: secrets } } });
      for (const secret of secrets) {
        for (const [, setToken, url] of PLACES) {
          const res = await setToken(s.http.post(url(`${s.prefix}/all-images`, secret)), secret)
            .set("content-type", "application/json")
            .send(JSON.stringify(aiDelivery()));
          expect(res.status).toBe(200);
        }
      }
      expect(s.rec.events).toHaveLength(9);
      const res = await postAllImages(s, aiDelivery(), "rotation-retired-secret-z0");
      expectProblem(res, 401, "auth.failed");
      for (const secret of secrets) expect(res.text).not.toContain(secret);
      expect(s.rec.events).toHaveLength(9);
    });

    test("a secret with URL-special characters is accepted from a percent-encoded ?token=", async () => {
      const secret = "s3cr+t/with=&?#chars";
      const s = await setup(kind, { providers: { crazyhorse: { secret } } });
      const res = await s.http
        .post(`${s.prefix}/crazyhorse?token=${encodeURIComponent(secret)}`)
        .set("content-type", "application/json")
        .send(JSON.stringify(chDelivery()));
      expectCrazyhorseOk(res);
    });

    test("a missing and a wrong token get the same answer: no detail of why", async () => {
      const s = await setup(kind);
      const missing = await postCrazyhorse(s, chDelivery(), null);
      const wrong = await postCrazyhorse(s, chDelivery(), "x");
      expect({ status: wrong.status, headers: wrong.headers["content-type"], text: wrong.text }).toEqual({
        status: missing.status,
        headers: missing.headers["content-type"],
        text: missing.text,
      });
    });

    test("an unauthenticated caller learns nothing of the body: malformed JSON and schema failures without a token are 401", async () => {
      const s = await setup(kind);
      expectProblem(await postCrazyhorse(s, `{"state": "DONE", "note": "${MARKER}"`, null), 401, "auth.failed");
      expectProblem(await postCrazyhorse(s, { state: 42, code: [], note: MARKER }, "wrong"), 401, "auth.failed");
      expect(s.rec.invalid.map((i) => i.reason)).toEqual(["auth.failed", "auth.failed"]);
    });

    test("a refused delivery is not remembered: sent again with the token it is handled, not a duplicate", async () => {
      const s = await setup(kind);
      const delivery = chDelivery();
      expectProblem(await postCrazyhorse(s, delivery, "wrong"), 401, "auth.failed");
      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
      expect(s.rec.duplicates).toEqual([]);
    });

    const send = (s: Awaited<ReturnType<typeof setup>>, query: string, headers: Record<string, string> = {}) =>
      s.http
        .post(`${s.prefix}/crazyhorse${query}`)
        .set({ "content-type": "application/json", ...headers })
        .send(JSON.stringify(chDelivery()));

    test("many wrong tokens and the right one in one query string are refused with 401 auth.multiple-tokens, never tried one by one", async () => {
      const s = await setup(kind);
      const guesses = Array.from({ length: 600 }, (_, i) => `token=guess-${i}`).join("&");
      const res = await send(s, `?${guesses}&token=${encodeURIComponent(SECRET)}`);
      expectProblem(res, 401, "auth.multiple-tokens");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 401, reason: "auth.multiple-tokens" });
    });

    test("a repeated `token` parameter is refused even when both are right: one token per request", async () => {
      const s = await setup(kind);
      const token = encodeURIComponent(SECRET);
      expectProblem(await send(s, `?token=${token}&token=${token}`), 401, "auth.multiple-tokens");
      expect(s.rec.events).toEqual([]);
    });

    test("a token in several places that disagree is refused with 401 auth.multiple-tokens; the same token in several places is accepted", async () => {
      const s = await setup(kind);
      const token = `?token=${encodeURIComponent(SECRET)}`;
      expectProblem(await send(s, token, { authorization: "Bearer guess" }), 401, "auth.multiple-tokens");
      expectProblem(await send(s, "", { authorization: `Bearer ${SECRET}`, "x-webhook-token": "guess" }), 401, "auth.multiple-tokens");
      expectProblem(await send(s, "?token=guess", { "x-webhook-token": SECRET }), 401, "auth.multiple-tokens");
      expect(s.rec.events).toEqual([]);
      expectCrazyhorseOk(await send(s, token, { authorization: `Bearer ${SECRET}`, "x-webhook-token": SECRET }));
      expect(s.rec.events).toHaveLength(1);
    });
  });
});
