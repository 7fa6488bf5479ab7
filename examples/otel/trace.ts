// OpenTelemetry with @langfuse/tracing, exported through Outbox: OutboxSpanProcessor in place of
// LangfuseSpanProcessor. Configured from LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY.
//   npx tsx trace.ts
import { startActiveObservation, startObservation } from '@langfuse/tracing';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OutboxSpanProcessor } from 'outbox/otel';

const processor = new OutboxSpanProcessor(); // instead of: new LangfuseSpanProcessor()
const provider = new NodeTracerProvider({ spanProcessors: [processor] });
// Without register() (or setLangfuseTracerProvider(provider)) @langfuse/tracing records into OpenTelemetry's
// no-op tracer: no span reaches the processor, and forceFlush() still resolves.
provider.register();

await startActiveObservation('chat-turn', async (turn) => {
  turn.update({ input: { question: 'What is OTLP?' } });
  const answer = startObservation('answer', { model: 'gpt-4o-mini', input: 'What is OTLP?' }, { asType: 'generation' });
  answer.update({ output: 'The OpenTelemetry protocol.', usageDetails: { input: 5, output: 6 } });
  answer.end();
  turn.update({ output: { ok: true } });
});

await provider.shutdown(); // flushes the processor; never rejects
const { sent, dropped } = processor.stats();
console.log(`sent ${sent} spans, dropped ${Object.values(dropped).reduce((a, b) => a + b, 0)}`);
