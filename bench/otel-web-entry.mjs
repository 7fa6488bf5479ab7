// Bundled by esbuild into bench/results/build/otel-web.js for the bench page: OpenTelemetry's web tracer with its
// BatchSpanProcessor and OTLP/HTTP JSON exporter, the way a page would set it up to send to Langfuse directly.
import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

/**
 * A tracer exporting to `url` with `headers` (Basic auth for the collector's OTLP route); defaults otherwise.
 * `maxQueueSize` (default 2048) raises the processor's queue bound; the export batch then grows with it (to 1/20 of
 * the queue), since a forceFlush of 20 000 spans in batches of 512 fails with "Concurrent export limit reached".
 */
export function createOtelWeb({ url, headers, maxQueueSize }) {
  const config = maxQueueSize === undefined ? undefined : { maxQueueSize, maxExportBatchSize: Math.max(512, Math.ceil(maxQueueSize / 20)) };
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url, headers }), config);
  const provider = new WebTracerProvider({ spanProcessors: [processor] });
  provider.register(); // its StackContextManager: what startActiveSpan runs under in a page
  return { tracer: provider.getTracer('bench'), flush: () => processor.forceFlush(), shutdown: () => provider.shutdown() };
}
