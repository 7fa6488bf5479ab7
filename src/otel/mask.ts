import { anyValue, type OtelOtlpSpan } from './encode';

/** The attributes Langfuse's processor masks (exact keys). */
export const MASKED_KEYS = new Set([
  'langfuse.observation.input',
  'langfuse.trace.input',
  'langfuse.observation.output',
  'langfuse.trace.output',
  'langfuse.observation.metadata',
  'langfuse.trace.metadata',
]);

/** What a mask that throws leaves of the value (Langfuse's words). */
export const MASK_FAILED = '<fully masked due to failed mask function>';

/**
 * Applies `mask` to the masked attributes of an encoded span, in place. Returns undefined when every mask call
 * was synchronous, or a promise that settles (never rejects) once the async ones have been applied. A mask that
 * returns null or undefined removes the attribute (an attribute without a value would cost the whole batch).
 */
export function applyMask(
  span: OtelOtlpSpan,
  source: Record<string, unknown>,
  mask: (params: { data: unknown }) => unknown,
  warn: (message: string) => void,
): Promise<void> | undefined {
  let waits: Promise<void>[] | undefined;
  let removed = false;
  const set = (index: number, value: unknown) => {
    if (value === undefined || value === null) removed = true;
    span.attributes[index]!.value = value === undefined || value === null ? {} : anyValue(value);
  };
  const prune = () => {
    if (removed) span.attributes = span.attributes.filter((kv) => Object.keys(kv.value).length > 0);
  };
  const failed = (index: number, error: unknown) => {
    warn(`mask failed on ${span.attributes[index]!.key} of span ${span.spanId}, value fully masked: ${String(error)}`);
    span.attributes[index]!.value = { stringValue: MASK_FAILED };
  };
  for (let i = 0; i < span.attributes.length; i++) {
    const key = span.attributes[i]!.key;
    if (!MASKED_KEYS.has(key)) continue;
    let result: unknown;
    try {
      result = mask({ data: source[key] });
    } catch (error) {
      failed(i, error);
      continue;
    }
    if (result !== null && typeof (result as Promise<unknown> | undefined)?.then === 'function') {
      (waits ??= []).push(Promise.resolve(result).then((value) => set(i, value), (error) => failed(i, error)));
    } else {
      set(i, result);
    }
  }
  if (!waits) return void prune();
  return Promise.all(waits).then(prune);
}
