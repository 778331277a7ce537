// The OpenTelemetry SDK as a host would run it, for `BENCH_OTEL`: spans through a batch processor
// (what production uses) into an in-memory exporter, metrics read every second, and the
// AsyncLocalStorage context manager. The exporters are emptied every second so that memory stays flat.
import { createRequire } from "node:module";

export function installOtel() {
  const require = createRequire(import.meta.url);
  const { context, metrics, trace } = require("@opentelemetry/api");
  const { AsyncLocalStorageContextManager } = require("@opentelemetry/context-async-hooks");
  const { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } = require("@opentelemetry/sdk-trace-base");
  const {
    AggregationTemporality,
    InMemoryMetricExporter,
    MeterProvider,
    PeriodicExportingMetricReader,
  } = require("@opentelemetry/sdk-metrics");
  const spans = new InMemorySpanExporter();
  // A queue large enough that no span is dropped: a dropped span would cost less than a kept one.
  const processor = new BatchSpanProcessor(spans, { maxQueueSize: 200_000, maxExportBatchSize: 10_000, scheduledDelayMillis: 200 });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }));
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  metrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1000 })] }),
  );
  setInterval(() => {
    spans.reset();
    exporter.reset();
  }, 1000).unref();
}
