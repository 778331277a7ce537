// An OpenTelemetry SDK for one test file, as a host would register it, with its spans and
// metrics kept in memory: the tests read what a backend would receive.
import { context, metrics, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** A metric reader that collects only when asked: the in-memory reader of these tests. */
class InMemoryMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface Otel {
  spans(): ReadableSpan[];
  /** Every metric of the package, collected now. */
  collect(): Promise<MetricData[]>;
  /** Forgets the spans recorded so far (metrics are cumulative: compare before and after). */
  reset(): void;
  shutdown(): Promise<void>;
}

export function installOtel(): Otel {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new InMemoryMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans: () => exporter.getFinishedSpans(),
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === "imagegen-webhooks").flatMap((scope) => scope.metrics);
    },
    reset: () => exporter.reset(),
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
}

/** The points of one metric, with their attributes. */
export function pointsOf(metrics: MetricData[], name: string): DataPoint<number | Histogram>[] {
  return (metrics.find((metric) => metric.descriptor.name === name)?.dataPoints ?? []) as DataPoint<number | Histogram>[];
}

/** The value of a counter's point whose attributes include `attributes` (0 when there is none). */
export function countOf(metrics: MetricData[], name: string, attributes: Record<string, unknown>): number {
  return pointsOf(metrics, name)
    .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
    .reduce((sum, point) => sum + (typeof point.value === "number" ? point.value : point.value.count), 0);
}
