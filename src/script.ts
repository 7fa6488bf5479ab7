/**
 * `<script>` entry (dist/outbox.global.js): puts the browser API on `window.Outbox` and, when the tag carries
 * `data-base-url`, `data-relay` or `data-endpoint`, creates `window.outbox` from its data attributes, replaying the calls the stub snippet
 * (dist/outbox-stub.js, README "Script tag") queued before this file loaded, in order and with their original
 * timestamps.
 */
import { createOutbox, OutboxOptionsError } from './index';
import type { TrackOptions } from './core/types';
import type { Outbox, ScoreInput } from './trace/types';

/** What the stub snippet leaves on `window.outbox` until this file replaces it. */
interface Stub {
  /** Queued calls: ['track', type, body, opts, epochMs] | ['score', score] | ['flush' | 'shutdown', resolve]. */
  q: unknown[][];
}

/** The options a tag may set, as `data-*` attributes (`data-public-key` → publicKey); numbers are parsed. */
const TAG_OPTIONS = [
  'baseUrl',
  'relay',
  'environment',
  'release',
  'endpoint',
  'publicKey',
  'flushAt',
  'flushInterval',
  'maxBatchBytes',
  'maxEventBytes',
  'maxQueueEvents',
  'maxEventAgeMs',
  'storage',
  'requestTimeoutMs',
  'compression',
  'debug',
] as const;

/** Reads the tag's options; a value that is not a number or boolean is kept as text so validation names it. */
export function optionsFromTag(tag: HTMLElement): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const key of TAG_OPTIONS) {
    const raw = tag.dataset[key];
    if (raw === undefined) continue;
    if (key === 'debug') options[key] = raw === '' || raw === 'true' ? true : raw === 'false' ? false : raw;
    else if (/^(flush|max|request)/.test(key) && raw.trim() !== '' && !Number.isNaN(Number(raw))) options[key] = Number(raw);
    else options[key] = raw;
  }
  return options;
}

/** Replays the stub's queue into the real client: tracks keep their call time, flush/shutdown promises settle. */
export function replay(stub: Stub | undefined, outbox: Outbox): void {
  const queue = stub && Array.isArray(stub.q) ? stub.q : [];
  for (const call of queue) {
    const [method, ...args] = call;
    if (method === 'track') {
      const [type, body, opts, at] = args as [string, unknown, TrackOptions | undefined, number];
      outbox.track(type, body, { ...opts, timestamp: opts?.timestamp ?? at });
    } else if (method === 'score') {
      outbox.score(args[0] as ScoreInput);
    } else if (method === 'flush' || method === 'shutdown') {
      const resolve = args[0];
      void outbox[method]().then(() => typeof resolve === 'function' && resolve());
    }
  }
  queue.length = 0;
}

const w = window as unknown as { Outbox?: unknown; outbox?: Outbox | Stub };
w.Outbox = { createOutbox, OutboxOptionsError };

// currentScript is set while a classic script runs, async and defer included; null only for module scripts.
const tag = document.currentScript as HTMLScriptElement | null;
if (tag && (tag.dataset.endpoint ?? tag.dataset.baseUrl ?? tag.dataset.relay) !== undefined) {
  try {
    const outbox = createOutbox(optionsFromTag(tag) as never);
    const stub = w.outbox as Stub | undefined;
    w.outbox = outbox;
    replay(stub, outbox);
  } catch (error) {
    // Invalid tag options: say so on the console instead of throwing into the host page.
    console.error(error instanceof Error ? error.message : error);
  }
}
