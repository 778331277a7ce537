// Stage 5, parse: a body that is not JSON is 400.
import { closeAll, expectOnlyInvalid, expectProblem, HOSTS, MARKER, postAllImages, postCrazyhorse, setup } from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("JSON and schema", () => {
    test("malformed JSON is refused with 400 (no schema errors, the body not quoted), only `invalid` emitted", async () => {
      const s = await setup(kind);
      const res = await postCrazyhorse(s, `{"state": "DONE", "code": "abc", "note": "${MARKER}",`);
      expectProblem(res, 400, "json.malformed");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 400, reason: "json.malformed" });
    });

    test("an empty body is malformed JSON: 400", async () => {
      const s = await setup(kind);
      expectProblem(await postAllImages(s, ""), 400, "json.malformed");
    });
  });
});
