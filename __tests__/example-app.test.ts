import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import request from "supertest";
import { createDemoApp } from "../example-app/app";
import { allImagesExample, crazyhorseExample } from "../lib/testing";

const options = { crazyhorseSecret: "ch-secret", allImagesSecret: "ai-secret", imageBaseUrl: "https://storage.example.com/" };

describe("the demo app", () => {
  test("accepts the crazyhorse example with its token, answers success and logs the event", async () => {
    const lines: string[] = [];
    const { app } = createDemoApp({ ...options, log: (line) => lines.push(line) });
    const response = await request(app)
      .post("/webhooks/crazyhorse?token=ch-secret")
      .set("content-type", "application/json")
      .send(JSON.stringify(crazyhorseExample));
    expect(response.status).toBe(200);
    expect(response.text).toBe("success");
    expect(lines).toEqual([
      `crazyhorse.done: generation ${crazyhorseExample.code} is completed (https://storage.example.com/${crazyhorseExample.generateImageUrls[0]})`,
    ]);
  });

  test("accepts the all-images example and logs a refused and a duplicate delivery", async () => {
    const lines: string[] = [];
    const { app } = createDemoApp({ ...options, log: (line) => lines.push(line) });
    const send = (token: string) =>
      request(app).post(`/webhooks/all-images?token=${token}`).set("content-type", "application/json").send(JSON.stringify(allImagesExample));
    expect((await send("ai-secret")).status).toBe(200);
    expect((await send("ai-secret")).status).toBe(200);
    expect((await send("forged")).status).toBe(401);
    expect(lines).toEqual([
      `all-images.print.completed: generation ${allImagesExample.data.id} is completed (${allImagesExample.data.images[0].url})`,
      `duplicate of all-images.print.completed (${allImagesExample.id}): not emitted again`,
      "refused a delivery to all-images: 401 auth.failed",
    ]);
  });

  test("serves its own page and leaves other routes to Express", async () => {
    const { app } = createDemoApp(options);
    expect((await request(app).get("/")).text).toContain("POST /webhooks/crazyhorse");
    expect((await request(app).get("/nowhere")).status).toBe(404);
  });
});

/** The README's curl command, taken apart: its URL and its body. */
function readmeCurl(): { url: string; body: string } {
  const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
  const match = /curl -X POST '([^']+)' \\\n\s+-H 'content-type: application\/json' \\\n\s+-d '([^']+)'/.exec(readme);
  if (!match) throw new Error("the README has no curl command of the expected form");
  return { url: match[1] as string, body: match[2] as string };
}

describe("npm start", () => {
  test("the README's curl sends the provider's documented example", () => {
    expect(JSON.parse(readmeCurl().body)).toEqual(crazyhorseExample);
  });

  test("starts the demo server, which answers the README's curl with success and logs the event", async () => {
    const root = join(__dirname, "..");
    const curl = readmeCurl();
    const child = spawn(process.execPath, [join(root, "node_modules", "tsx", "dist", "cli.mjs"), "example-app/server.ts"], {
      cwd: root,
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${output}`)), 20_000);
        child.stdout.on("data", () => {
          const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1] as string);
          }
        });
        child.on("exit", (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
      });
      const url = new URL(curl.url);
      url.port = port;
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: curl.body });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("success");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(output).toContain(`crazyhorse.done: generation ${crazyhorseExample.code} is completed`);
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
    }
  }, 30_000);
});
