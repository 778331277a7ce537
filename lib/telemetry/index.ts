/**
 * OpenTelemetry traces and metrics of the pipeline, through `@opentelemetry/api` only: the host's
 * SDK decides where they go. See docs/observability.md.
 */
export { createTelemetry, type Telemetry } from "./telemetry";
export { recordDelivery, recordNotFound, startDeliverySpan, traceFieldsOf, withSpan } from "./delivery-span";
export { runInSpan, recordDead } from "./run-span";
export { count, COUNTS, type CountName } from "./counts";
export type { CallListener } from "./listener-span";
export { ATTR, METRIC, INSTRUMENTATION_NAME } from "./names";
