/**
 * `sampleRate`, decided as OpenTelemetry's TraceIdRatioBasedSampler decides it (the sampler Langfuse documents for
 * sampling; @opentelemetry/sdk-trace-base 2.x): the trace id's four 32-bit parts XORed together, kept when below
 * floor(rate × 0xffffffff) (every trace at rate 1). The decision depends on the trace id only, so every span of a
 * trace — here, in another service, or in LangfuseSpanProcessor with that sampler — gets the same one.
 */

/** The bound for a rate (undefined = 1: keep everything). */
export function sampleBound(rate: number | undefined): number {
  if (rate === undefined || rate >= 1) return 0x100000000;
  return rate > 0 ? Math.floor(rate * 0xffffffff) : 0;
}

/** Whether the trace with this id (32 lowercase hex digits) is kept under `bound`. */
export function keepTrace(traceId: string, bound: number): boolean {
  if (bound >= 0x100000000) return true;
  let accumulation = 0;
  for (let i = 0; i < 32; i += 8) accumulation = (accumulation ^ parseInt(traceId.slice(i, i + 8), 16)) >>> 0;
  return accumulation < bound;
}
