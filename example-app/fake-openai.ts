import { Router } from "express";
import { memoryRecords, type ApiRecords } from "./api-records";
import { renderImage } from "./storage-images";

/** Where the demo serves its stand-in for OpenAI's API: `GET /fake-openai/v1/responses/{id}`. */
export const FAKE_OPENAI_PATH = "/fake-openai";

/** The API key the demo's receiver reads its fake OpenAI API with: public, like the demo's secrets. */
export const DEMO_OPENAI_API_KEY = "sk-imagegen-webhooks-demo-key";

/** The demo's OpenAI webhook signing secret when none is given: public, like the demo's tokens. */
export const DEMO_OPENAI_SIGNING_SECRET = `whsec_${Buffer.from("imagegen-webhooks demo openai").toString("base64")}`;

/** A response as the simulator played it: its status, and the paths its images are drawn from. */
export interface DemoResponse {
  id: string;
  status: "completed" | "failed";
  images: readonly string[];
}

/**
 * OpenAI's `GET /v1/responses/{id}`, answered from what the simulator played: each image an
 * `image_generation_call` whose `result` is the picture, base64, as OpenAI sends it. The receiver
 * reads it back before `generation.completed` fires: OpenAI's webhook names the response only.
 */
export class FakeOpenAIApi {
  constructor(private readonly responses: ApiRecords<DemoResponse> = memoryRecords(500)) {}

  /** The response, known to the API before its webhook is sent. */
  async record(response: DemoResponse): Promise<void> {
    await this.responses.set(response.id, response);
  }

  readonly router = Router().get(`${FAKE_OPENAI_PATH}/v1/responses/:id`, (req, res, next) => {
    // OpenAI's own answer to a missing or wrong key.
    if (req.get("authorization") !== `Bearer ${DEMO_OPENAI_API_KEY}`) {
      res.status(401).json({ error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } });
      return;
    }
    this.responses.get(req.params.id).then((response) => {
      if (!response) {
        res.status(404).json({ error: { message: `Response with id '${req.params.id}' not found.`, type: "invalid_request_error" } });
        return;
      }
      res.json(answerOf(response));
    }, next);
  });
}

/** The response as OpenAI's API answers it: each image an `image_generation_call` with its bytes, base64. */
function answerOf(response: DemoResponse) {
  return {
    id: response.id,
    object: "response",
    status: response.status,
    model: "gpt-5",
    error: response.status === "failed" ? { code: "server_error", message: "the simulated response failed" } : null,
    output:
      response.status === "completed"
        ? response.images.map((path, i) => ({
            type: "image_generation_call",
            id: `ig_${i}`,
            status: "completed",
            output_format: "png",
            result: renderImage(path).toString("base64"),
          }))
        : [],
  };
}

/** The receiver's options for OpenAI: its signing secret, and the fake API at this server's origin. */
export function openaiOptions(origin: string, signingSecret = DEMO_OPENAI_SIGNING_SECRET) {
  return {
    signature: { secret: signingSecret },
    apiKey: DEMO_OPENAI_API_KEY,
    apiBaseUrl: `${origin.replace(/\/+$/, "")}${FAKE_OPENAI_PATH}`,
  };
}
