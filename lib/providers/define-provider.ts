import type { FromSchema, JSONSchema } from "json-schema-to-ts";
import { GENERATION_STATUSES, type Generation, type GenerationStatus } from "../generations/generation";
import type { WebhookResponse } from "../http/response";
import { hmacSignature, isHmacSignatureScheme, type HmacSignatureScheme } from "../signatures/hmac-signature";
import { isSignatureScheme } from "../signatures/scheme";
import type {
  AnyProvider,
  ApiCredential,
  Authentication,
  AuthenticationMethod,
  DeliveryContext,
  HmacSignatureDeclaration,
  NormalizeContext,
  Provider,
  ReadBackCompletion,
} from "./provider";
import type { ProviderApi } from "./provider-api";
import type { ProviderTesting } from "./provider-testing";
import { ConfigError } from "../options/checks";

/** What `defineProvider` takes: everything one image provider is. */
export interface ProviderDefinition<Name extends string, Schema extends JSONSchema, Known extends string, Payload = FromSchema<Schema>> {
  /** Lower case letters, digits and dashes: the route (`/<name>`) and the events' prefix (`<name>.<event>`). */
  name: Name;
  /** The JSON Schema (draft-07) of a delivery, `as const` so that the payload is typed from it. Leave unknown fields allowed. */
  schema: Schema;
  /** The event names (after `<name>.`) that the typed `on()` should know; deliveries may carry others. */
  knownEvents?: readonly Known[];
  /** The event name after `<name>.`, e.g. `succeeded` for `replicate.succeeded`. */
  eventName: (payload: Payload) => string;
  /** The key that is the same each time the same delivery is sent again, e.g. an event id or `webhook-id`. */
  idempotencyKey: (payload: Payload, context: DeliveryContext) => string;
  /** The delivery as a `Generation`, the one shape every provider shares (`provider` is filled in). */
  normalize: (payload: Payload, context: NormalizeContext) => Omit<Generation<Name>, "provider">;
  /** The answer to a handled delivery. Default `200` with an empty body. */
  answer?: Partial<WebhookResponse>;
  /**
   * The ways deliveries can be authenticated, the one the provider documents first. Default both:
   * `["token", "signature"]`. A provider that signs its own way declares its scheme instead, e.g.
   * `[ed25519Jwks({...})]` or `[hmacSignature({...})]`: the options it names become the provider's.
   */
  authentication?: readonly (Authentication | HmacSignatureScheme)[];
  /**
   * How its `signature` is made, where it is not Standard Webhooks: `{ kind: "hmac", header:
   * "x-bfl-signature", prefix: "sha256=" }` for an HMAC-SHA256 of the raw body, hex, in a header.
   * The deployment's `signature: { secret }` keys it. The same as listing `hmacSignature({ header,
   * prefix })` in `authentication` in place of `"signature"`, as the built-in BFL does.
   */
  signatureScheme?: HmacSignatureDeclaration;
  /**
   * How to build and simulate its deliveries, for `buildDelivery`, `simulateJob` and the CLI's
   * `send` and `simulate` (`imagegen-webhooks/testing`). Without it they refuse this provider.
   */
  testing?: ProviderTesting<NoInfer<Payload>>;
  /**
   * Reads a generation back from your provider's API, as one of its delivery bodies, so that a
   * generation whose final webhook never came is recovered (`reconcile`). `api` says where the API
   * is and holds the credential from the provider's options; throw a `ProviderApiError` for an
   * error answer (its `retryAfterMs` is honoured).
   */
  fetchGeneration?: (id: string, api: ProviderApi) => Promise<NoInfer<Payload>>;
  /** The origin of your provider's API, where `fetchGeneration` reads unless `apiBaseUrl` is set. */
  apiBaseUrl?: string;
  /**
   * Its API credential: the option that holds it (`apiToken` or `apiKey`) and the header a read-back
   * sends it in (`api.headers` holds it, ready to send). Without it, either option is read.
   */
  credential?: ApiCredential;
  /**
   * Whether a delivery is about a generation. Default: every one is. One that is not (an account
   * notice, a batch ending) fires `<name>.<event>`, `<name>` and `*` only: no `generation.*`.
   */
  isGeneration?: (payload: Payload) => boolean;
  /**
   * For a provider whose webhook only says that a generation ended: how the generation is read
   * back from its API, with the credential, before its events fire (in the worker with an inbox).
   * A read-back that fails fails the delivery, for the provider (or the inbox) to retry.
   */
  complete?: ReadBackCompletion;
  /** Why it has no API to read a generation back (no `fetchGeneration`), e.g. "its provider documents its webhook only". */
  withoutApi?: string;
  /**
   * What `fetchGeneration` needs in `api.app` that the id does not say, e.g. "the model id, e.g.
   * \"acme/sdxl\"": `generations.track()` without `app` is then refused, since such a generation
   * could never be read back.
   */
  appForReadBack?: string;
  /** What the CLI's help says `<event>` is, e.g. `pixelforge's state (ready, broken, ...)`. Default: from `knownEvents`. */
  cliEvents?: string;
}

const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Names that would collide with the emitter's own events. */
const RESERVED = new Set(["generation", "invalid", "duplicate", "error", "newlistener", "removelistener"]);
const METHODS: readonly AuthenticationMethod[] = ["token", "signature"];

/**
 * Defines an image provider, to receive its webhooks like the built-in ones: pass it to
 * `createWebhooks({ customProviders: [myProvider], providers: { "my-provider": { secret } } })`.
 * The payload type comes from the schema; the definition is checked here, so a mistake throws at
 * start-up with a message that says what to change.
 */
export function defineProvider<
  const Name extends string,
  Schema extends JSONSchema,
  const Known extends string = never,
  Payload = FromSchema<Schema>,
>(definition: ProviderDefinition<Name, Schema, Known, Payload>): Provider<Name, Payload, { [E in Known]: Payload }>;
// The implementation sees the payload as `any`: instantiating FromSchema over a generic schema here would not terminate.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function defineProvider(definition: ProviderDefinition<string, JSONSchema, string, any>): AnyProvider {
  type Payload = unknown;
  const {
    name,
    schema,
    knownEvents = [],
    eventName,
    idempotencyKey,
    normalize,
    answer = {},
    authentication = METHODS,
    signatureScheme,
    testing,
    fetchGeneration,
    apiBaseUrl,
    credential,
    withoutApi,
    appForReadBack,
    cliEvents,
    isGeneration,
    complete,
  } = definition;
  const fail = (message: string): never => {
    throw new ConfigError(message, `defineProvider(${typeof name === "string" ? JSON.stringify(name) : ""})`);
  };
  if (typeof name !== "string" || !NAME.test(name)) fail(`name must be lower case letters, digits and dashes, e.g. "my-provider"`);
  if (RESERVED.has(name)) fail(`"${name}" is one of the emitter's own events: choose another name`);
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) fail("schema must be a JSON Schema object");
  for (const [key, fn] of Object.entries({ eventName, idempotencyKey, normalize })) {
    if (typeof fn !== "function") fail(`${key} must be a function`);
  }
  if (!Array.isArray(knownEvents) || knownEvents.some((event) => typeof event !== "string" || event.length === 0)) {
    fail("knownEvents must be an array of event names");
  }
  const listed: readonly unknown[] = authentication;
  const isScheme = (m: unknown) => isSignatureScheme(m) || isHmacSignatureScheme(m);
  if (
    !Array.isArray(authentication) ||
    listed.length === 0 ||
    listed.some((m) => !METHODS.includes(m as AuthenticationMethod) && !isScheme(m)) ||
    listed.filter(isScheme).length > 1
  ) {
    fail(
      `authentication must list one or more of ${METHODS.map((m) => `"${m}"`).join(", ")}, or one signature scheme (e.g. ed25519Jwks({...}))`,
    );
  }
  // A listed hmacSignature(...) is the "signature" method, made its way: what signatureScheme declares as data.
  const listedHmac = listed.find(isHmacSignatureScheme);
  if (listedHmac && (signatureScheme !== undefined || listed.includes("signature")))
    fail('the hmacSignature(...) in authentication is how its signature is made: leave out "signature" and signatureScheme');
  const declared = signatureScheme === undefined ? undefined : checkSignatureScheme(signatureScheme, fail);
  if (declared && !listed.includes("signature")) fail('signatureScheme is how its signature is made: list "signature" in authentication');
  const scheme = listedHmac ?? (declared && hmacSignature(declared));
  const methods = listed.map((m) => (isHmacSignatureScheme(m) ? "signature" : m)) as Authentication[];
  const { status = 200, headers = {}, body = "" } = answer;
  if (!Number.isInteger(status) || status < 200 || status > 299) fail("answer.status must be a 2xx status");
  const testingHooks = testing === undefined ? undefined : checkTesting(testing, fail);
  if (fetchGeneration !== undefined && typeof fetchGeneration !== "function") fail("fetchGeneration must be a function");
  if (apiBaseUrl !== undefined && !/^https?:\/\//.test(String(apiBaseUrl)))
    fail(`apiBaseUrl must be an http(s) origin, e.g. "https://api.example.com"`);
  const apiCredential = credential === undefined ? undefined : checkCredential(credential, fail);
  if (apiCredential && !fetchGeneration)
    fail("credential is what fetchGeneration sends: define fetchGeneration too, or leave credential out");
  if (withoutApi !== undefined && (typeof withoutApi !== "string" || fetchGeneration)) {
    fail("withoutApi is a sentence saying why the provider has no API, for one without fetchGeneration");
  }
  if (appForReadBack !== undefined && (typeof appForReadBack !== "string" || appForReadBack === "" || !fetchGeneration)) {
    fail("appForReadBack says what fetchGeneration needs in api.app, for a provider with fetchGeneration");
  }
  if (cliEvents !== undefined && (typeof cliEvents !== "string" || cliEvents === "")) fail("cliEvents must be a sentence");
  if (isGeneration !== undefined && typeof isGeneration !== "function") fail("isGeneration must be a function, or left out");
  const completion = complete === undefined ? undefined : checkCompletion(complete, fail);
  if (completion && !apiCredential) fail("complete reads the API with its credential: declare credential too");

  return Object.freeze({
    name,
    schema: schema as Readonly<Record<string, unknown>>,
    knownEvents: [...knownEvents],
    eventName: (payload: Payload) => eventName(payload),
    idempotencyKey: (payload: Payload, context: DeliveryContext) => idempotencyKey(payload, context),
    normalize(payload: Payload, context: NormalizeContext): Generation<string> {
      const generation = normalize(payload, context);
      // A status outside the shared set would be an event nobody can subscribe to.
      const status: GenerationStatus = GENERATION_STATUSES.includes(generation.status) ? generation.status : "unknown";
      return { ...generation, status, provider: name };
    },
    answer: Object.freeze({ status, headers: { ...headers }, body }),
    authentication: methods,
    ...(scheme && { signatureScheme: scheme }),
    ...(testingHooks && { testing: testingHooks }),
    ...(fetchGeneration && { fetchGeneration: (id: string, api: ProviderApi) => fetchGeneration(id, api) }),
    ...(apiBaseUrl !== undefined && { apiBaseUrl }),
    ...(apiCredential && { credential: apiCredential }),
    ...(withoutApi !== undefined && { withoutApi }),
    ...(appForReadBack !== undefined && { appForReadBack }),
    ...(cliEvents !== undefined && { cliEvents }),
    ...(isGeneration && { isGeneration: (payload: Payload) => isGeneration(payload) }),
    ...(completion && { complete: completion }),
  });
}

function checkCompletion(complete: unknown, fail: (message: string) => never): ReadBackCompletion {
  const given = (
    typeof complete === "object" && complete !== null ? complete : fail("complete must be an object")
  ) as Partial<ReadBackCompletion>;
  for (const key of ["needs", "read", "idOf", "apply"] as const) {
    if (typeof given[key] !== "function") fail(`complete.${key} must be a function`);
  }
  if (typeof given.schema !== "object" || given.schema === null) fail("complete.schema must be the JSON Schema of the API's answer");
  if (given.maxBytes !== undefined && !(Number.isInteger(given.maxBytes) && given.maxBytes > 0))
    fail("complete.maxBytes must be a positive integer");
  if (typeof given.withoutCredential !== "string" || given.withoutCredential === "")
    fail('complete.withoutCredential must say what is lost without the credential, e.g. "its events carry no images"');
  return Object.freeze({ ...(given as ReadBackCompletion) });
}

const OPTIONS: readonly string[] = ["apiToken", "apiKey"];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function checkSignatureScheme(scheme: unknown, fail: (message: string) => never): HmacSignatureDeclaration {
  const { kind, header, prefix } = (
    typeof scheme === "object" && scheme !== null ? scheme : fail("signatureScheme must be an object")
  ) as Partial<HmacSignatureDeclaration>;
  if (kind !== "hmac") fail('signatureScheme.kind must be "hmac" (an HMAC-SHA256 of the raw body in a header)');
  if (typeof header !== "string" || !HEADER_NAME.test(header)) fail('signatureScheme.header must be a header name, e.g. "x-bfl-signature"');
  if (prefix !== undefined && typeof prefix !== "string") fail('signatureScheme.prefix must be a string, e.g. "sha256="');
  return Object.freeze({ kind, header: header.toLowerCase(), ...(prefix !== undefined && { prefix }) });
}

function checkCredential(credential: unknown, fail: (message: string) => never): ApiCredential {
  const { option, header, prefix } = (
    typeof credential === "object" && credential !== null ? credential : fail("credential must be an object")
  ) as Partial<ApiCredential>;
  if (typeof option !== "string" || !OPTIONS.includes(option)) fail(`credential.option must be "apiToken" or "apiKey"`);
  if (typeof header !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))
    fail('credential.header must be a header name, e.g. "authorization"');
  if (prefix !== undefined && typeof prefix !== "string") fail('credential.prefix must be a string, e.g. "Bearer "');
  return Object.freeze({ option, header: header.toLowerCase(), ...(prefix !== undefined && { prefix }) });
}

/** The testing hooks are checked here too: a mistake there would otherwise surface only in a test run. */
function checkTesting(testing: unknown, fail: (message: string) => never): ProviderTesting<unknown> {
  const { eventField, example, simulate, tokenIn, signedHeaders } = (
    typeof testing === "object" && testing !== null ? testing : fail("testing must be an object")
  ) as Partial<ProviderTesting<unknown>>;
  if (typeof eventField !== "string" || eventField.length === 0)
    fail('testing.eventField must name the payload field that selects the event, e.g. "type"');
  if (typeof example !== "function") fail("testing.example must be a function that returns a valid delivery");
  if (simulate !== undefined && typeof simulate !== "function") fail("testing.simulate must be a function, or left out");
  if (tokenIn !== undefined && !["header", "query", "bearer"].includes(tokenIn))
    fail('testing.tokenIn must be "header", "query" or "bearer"');
  if (signedHeaders !== undefined && typeof signedHeaders !== "function")
    fail("testing.signedHeaders must be a function of the payload that returns the headers it signs, or left out");
  return Object.freeze({
    eventField: eventField,
    example: example,
    ...(simulate && { simulate }),
    ...(tokenIn !== undefined && { tokenIn }),
    ...(signedHeaders && { signedHeaders }),
  });
}
