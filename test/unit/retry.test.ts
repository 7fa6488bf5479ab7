import { describe, expect, it } from 'vitest';
import { isRetryableStatus, nextRetry, parseRetryAfter, probing, PROBE_EVERY_MS } from '../../src/core/retry';

const policy = { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 3 };

describe('nextRetry', () => {
  it.each([
    // attempts, failures, network, retryAfterMs, random, expected
    [1, 1, false, undefined, 0.999, { delayMs: 999 }],
    [1, 1, false, undefined, 0, { delayMs: 0 }],
    [2, 2, false, undefined, 0.5, { delayMs: 1000 }],
    [2, 3, false, undefined, 0.5, { delayMs: 2000 }], // ceiling 4 s ≤ PROBE_EVERY_MS: full jitter
    [2, 4, false, undefined, 0.5, { delayMs: 4500 }], // ceiling 8 s > PROBE_EVERY_MS: a probe in [3, 6] s instead
    [2, 8, false, undefined, 0.5, { delayMs: 4500 }], // 1000·2^7: probing, not 64 s (nor 60 s)
    [2, 40, false, undefined, 0.5, { delayMs: 4500 }], // huge exponents: probing too
    [2, 40, false, undefined, 0.999, { delayMs: 5997 }], // a probe never waits more than PROBE_EVERY_MS
    [3, 3, false, undefined, 0.5, 'give-up'], // attempts exhausted
    [0, 50, true, undefined, 0.25, { delayMs: 3750 }], // network failures never give up
    [99, 5, true, undefined, 0.25, { delayMs: 3750 }],
    [1, 1, false, 2000, 0.1, { delayMs: 2000 }], // Retry-After wins over jitter
    [1, 1, false, 10 * 24 * 3600_000, 0.1, { delayMs: 600_000 }], // a hostile Retry-After is capped
    [3, 3, false, 2000, 0.1, 'give-up'], // …but not over maxAttempts
  ] as const)('attempts=%i failures=%i network=%s retryAfter=%s random=%s → %j', (attempts, failures, network, retryAfterMs, random, expected) => {
    expect(nextRetry({ attempts, failures, network, retryAfterMs, random, probe: true }, policy)).toEqual(expected);
  });

  it('without probe (the relay queue consumer): the plain capped backoff', () => {
    expect(nextRetry({ attempts: 2, failures: 8, network: false, random: 0.5 }, policy)).toEqual({ delayMs: 30_000 });
  });
});

describe('probing', () => {
  it('starts once the backoff ceiling passes PROBE_EVERY_MS, and ends with the streak', () => {
    expect(PROBE_EVERY_MS).toBe(6000);
    expect([0, 1, 2, 3, 4, 5, 40].map((f) => probing(f, policy))).toEqual([false, false, false, false, true, true, true]);
    expect(probing(40, { ...policy, maxDelayMs: 5000 })).toBe(false); // a cap under the probe interval: plain backoff
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['2', 2000],
    [' 0 ', 0],
    ['1.5', 1500],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0], // a date in the past: now
    ['soon', undefined],
    ['-5', undefined],
    ['', undefined],
    [null, undefined],
  ] as const)('%j → %s', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('isRetryableStatus', () => {
  it.each([
    [408, true], [429, true], [500, true], [503, true], [599, true],
    [400, false], [401, false], [403, false], [404, false], [413, false], [422, false],
  ])('%i → %s', (status, expected) => expect(isRetryableStatus(status)).toBe(expected));
});
