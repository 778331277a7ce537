import { metrics } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import type { RequestHandler } from "express";

/** Where the demo serves its metrics in Prometheus's text format. */
export const METRICS_PATH = "/metrics";

let exporter: PrometheusExporter | undefined;

/**
 * The demo's OpenTelemetry metrics, served by the app itself rather than on the exporter's own port
 * (one port for the whole demo). Registered once per process, and before `createWebhooks()`, which
 * takes its meter when it is created, as an app does with its SDK. A host that registered its own
 * meter provider first keeps it: this exporter then has nothing to show.
 */
export function demoMetrics(): RequestHandler {
  if (!exporter) {
    exporter = new PrometheusExporter({ preventServerStart: true });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  }
  const serving = exporter;
  return (req, res) => serving.getMetricsRequestHandler(req, res);
}
