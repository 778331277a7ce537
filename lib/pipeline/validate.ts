import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { WebhookError } from "../errors";
import type { SchemaError } from "../events/event-map";

/** Reports at most this many schema errors in a `400` answer. */
const MAX_REPORTED_ERRORS = 20;

export type Validator = (data: unknown) => void;

let ajv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

function getAjv(): Ajv {
  if (!ajv) {
    // allErrors lets one answer list every problem; the body limit bounds what that can cost.
    // strictRequired is off only because `then` requires a property that `properties` declares one level up.
    ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv, ["date-time"]);
  }
  return ajv;
}

/** Compiles a schema once per process (however many receivers share it) into a check that throws `schema.invalid`. */
export function compileValidator(schema: object): Validator {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = getAjv().compile(schema);
    compiled.set(schema, validate);
  }
  const check = validate;
  return (data) => {
    if (check(data)) return;
    // An `if` error only repeats the `then` error beside it.
    const reported = (check.errors ?? []).filter((error) => error.keyword !== "if");
    const errors: SchemaError[] = reported.slice(0, MAX_REPORTED_ERRORS).map((error) => ({
      instancePath: error.instancePath,
      message: error.message ?? "is invalid",
    }));
    throw new WebhookError("schema.invalid", { errors });
  };
}
