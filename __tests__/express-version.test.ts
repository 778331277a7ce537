/**
 * The suite runs once per Express major that the peer range accepts: `npm test` with Express 5
 * (the `express` dev dependency), and `.ci/run` again with EXPRESS_MAJOR=4, where jest.config.js
 * maps `express` to the `express4` alias. This test is what keeps the second run honest: if the
 * mapping stopped applying, every other test would pass against Express 5 and prove nothing.
 */
import express from "express";
import request from "supertest";
import { createWebhooks } from "imagegen-webhooks";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { peerDependencies } from "../package.json";

const expected = Number(process.env.EXPRESS_MAJOR ?? "5");
const version: string = require("express/package.json").version;
const major = Number(version.split(".")[0]);

test(`the suite runs against Express ${expected}`, () => {
  expect(major).toBe(expected);
});

test("the Express in use is a major that the peer dependency range accepts", () => {
  const majors = peerDependencies.express.split("||").map((range) => Number(/^\s*\^(\d+)\./.exec(range)?.[1]));
  expect(majors).toEqual([4, 5]);
  expect(majors).toContain(major);
});

test("the imported express() is the one whose version was read, and it serves the middleware", async () => {
  // Express 5's router (path-to-regexp 8) refuses an unnamed wildcard that Express 4 matches: a
  // probe of the imported express() itself, not of a package.json that could be mapped apart.
  const app = express();
  const wildcard = () => app.get("/files/*", (_req, res) => void res.send("matched"));
  if (major >= 5) {
    expect(wildcard).toThrow(TypeError);
  } else {
    wildcard();
    expect((await request(app).get("/files/a.png")).text).toBe("matched");
  }

  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: "express-version-secret" } } });
  app.use("/webhooks", webhooks.middleware());
  const answer = await request(app)
    .post("/webhooks/crazyhorse?token=express-version-secret")
    .set("content-type", "application/json")
    .send(JSON.stringify(crazyhorseDelivery({ state: "DONE" })));
  expect(answer.status).toBe(200);
  expect(answer.text).toBe("success");
  await webhooks.close();
});
