// The one observation every client does in the observations benchmark: a generation started with its input and
// model, updated with its output and usage, ended. ~300 bytes of pseudo-random words per observation (so gzip
// meets text, not a repeated string), deterministic per i.
// Also loaded into the bench page as an ES module.

function text(i, count) {
  let seed = (i * 2654435761) >>> 0;
  const words = [];
  for (let k = 0; k < count; k++) {
    let w = '';
    for (let len = 3 + (k % 5); len > 0; len--) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      w += String.fromCharCode(97 + ((seed >>> 8) % 26));
    }
    words.push(w);
  }
  return words.join(' ');
}

/**
 * Does one observation with a Langfuse-shaped `startObservation(name, attributes, { asType })` (Outbox's or
 * @langfuse/tracing's): start + update + end.
 * @param {(name: string, attributes: object, options: { asType: string }) => { update(a: object): void, end(): void }} start
 * @param {number} i
 */
export function observationWork(start, i) {
  const o = start('chat', { input: { messages: [{ role: 'user', content: text(i, 20) }] }, model: 'gpt-bench', metadata: { step: i % 7 } }, { asType: 'generation' });
  o.update({ output: { role: 'assistant', content: text(i + 1, 20) }, usageDetails: { input: 20, output: 20 } });
  o.end();
}

/** The same observation as raw OpenTelemetry (the attributes Langfuse's SDK would set), for @opentelemetry/sdk-trace-web. */
export function otelWork(tracer, i) {
  const span = tracer.startSpan('chat', {
    attributes: {
      'langfuse.observation.type': 'generation',
      'langfuse.observation.input': JSON.stringify({ messages: [{ role: 'user', content: text(i, 20) }] }),
      'langfuse.observation.model.name': 'gpt-bench',
      'langfuse.observation.metadata.step': String(i % 7),
    },
  });
  span.setAttributes({
    'langfuse.observation.output': JSON.stringify({ role: 'assistant', content: text(i + 1, 20) }),
    'langfuse.observation.usage_details': JSON.stringify({ input: 20, output: 20 }),
  });
  span.end();
}

/**
 * The same generation through `startActiveObservation(name, fn, { asType })` (Outbox's or @langfuse/tracing's):
 * the callback updates it twice and returns; the call ends it.
 */
export function activeWork(startActiveObservation, i) {
  startActiveObservation(
    'chat',
    (o) => {
      o.update({ input: { messages: [{ role: 'user', content: text(i, 20) }] }, model: 'gpt-bench', metadata: { step: i % 7 } });
      o.update({ output: { role: 'assistant', content: text(i + 1, 20) }, usageDetails: { input: 20, output: 20 } });
    },
    { asType: 'generation' },
  );
}

/** A function wrapped once by `observe` (Outbox's or @langfuse/tracing's); each call is one observation. */
export function makeObserveWork(observe) {
  const answer = observe((request) => ({ role: 'assistant', content: text(request.i + 1, 20) }), { name: 'chat', asType: 'generation' });
  return (i) => answer({ i, messages: [{ role: 'user', content: text(i, 20) }] });
}

/** OpenTelemetry's startActiveSpan with the attributes activeWork's observation gets. */
export function otelActiveWork(tracer, i) {
  tracer.startActiveSpan('chat', (span) => {
    span.setAttributes({
      'langfuse.observation.type': 'generation',
      'langfuse.observation.input': JSON.stringify({ messages: [{ role: 'user', content: text(i, 20) }] }),
      'langfuse.observation.model.name': 'gpt-bench',
      'langfuse.observation.metadata.step': String(i % 7),
    });
    span.setAttributes({
      'langfuse.observation.output': JSON.stringify({ role: 'assistant', content: text(i + 1, 20) }),
      'langfuse.observation.usage_details': JSON.stringify({ input: 20, output: 20 }),
    });
    span.end();
  });
}

/** What observe() does, by hand with OpenTelemetry: an active span around the call, its argument and result as I/O. */
export function makeOtelObserveWork(tracer) {
  const answer = (request) => ({ role: 'assistant', content: text(request.i + 1, 20) });
  return (i) =>
    tracer.startActiveSpan('chat', (span) => {
      const request = { i, messages: [{ role: 'user', content: text(i, 20) }] };
      span.setAttributes({ 'langfuse.observation.type': 'generation', 'langfuse.observation.input': JSON.stringify(request) });
      const result = answer(request);
      span.setAttribute('langfuse.observation.output', JSON.stringify(result));
      span.end();
      return result;
    });
}
