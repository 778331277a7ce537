// Stage 6, validate: the provider's JSON Schema; a failure is 400 with each error's
// instancePath and message, and unknown fields are accepted.
import type { SchemaError } from "imagegen-webhooks";
import {
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
  setup,
} from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("JSON and schema", () => {
    test("a crazyhorse schema failure is 400 with each error's instancePath and message, and `invalid` carries the same errors", async () => {
      const s = await setup(kind);
      // `code` of the wrong type, and a DONE state without its images.
      const body = { state: "DONE", code: 12345, params: { number: "two" }, note: MARKER };
      const res = await postCrazyhorse(s, body);
      const problem = expectProblem(res, 400, "schema.invalid", expect.any(Array));
      const errors = problem.errors as SchemaError[];
      for (const error of errors) expect(Object.keys(error).sort()).toEqual(["instancePath", "message"]);
      expect(errors).toEqual(
        expect.arrayContaining([
          { instancePath: "/code", message: "must be string" },
          { instancePath: "/params/number", message: "must be number" },
          { instancePath: "", message: "must have required property 'generateImageUrls'" },
        ]),
      );
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 400, reason: "schema.invalid", errors });
    });

    test("an all-images schema failure is 400 with its errors; a missing required field is named", async () => {
      const s = await setup(kind);
      const delivery = aiDelivery();
      const body = { ...delivery, data: { ...delivery.data, status: "3", createdAt: "yesterday" } } as Record<string, unknown>;
      delete body.type;
      const res = await postAllImages(s, body);
      const problem = expectProblem(res, 400, "schema.invalid", expect.any(Array));
      expect(problem.errors).toEqual(
        expect.arrayContaining([
          { instancePath: "", message: "must have required property 'type'" },
          { instancePath: "/data/status", message: "must be integer" },
          { instancePath: "/data/createdAt", message: 'must match format "date-time"' },
        ]),
      );
      expectOnlyInvalid(s.rec, { provider: "all-images", status: 400, reason: "schema.invalid", errors: problem.errors as SchemaError[] });
    });

    test("unknown fields and an unknown state are accepted", async () => {
      const s = await setup(kind);
      const delivery = { ...chDelivery({ state: "UPSCALING" }), futureField: { nested: true } };
      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expect(s.rec.names).toEqual(["crazyhorse.upscaling"]);
      expect(s.rec.events[0]?.generation.status).toBe("unknown");
    });
  });
});
