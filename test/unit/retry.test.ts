import { describe, expect, it } from 'vitest';
import { isRetryableStatus, nextRetry, parseRetryAfter } from '../../src/core/retry';

const policy = { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 3 };

describe('nextRetry', () => {
  it.each([
    // attempts, failures, network, retryAfterMs, random, expected
    [1, 1, false, undefined, 0.999, { delayMs: 999 }],
    [1, 1, false, undefined, 0, { delayMs: 0 }],
    [2, 2, false, undefined, 0.5, { delayMs: 1000 }],
    [2, 3, false, undefined, 0.5, { delayMs: 2000 }],
    [2, 8, false, undefined, 0.5, { delayMs: 60_000 * 0.5 }], // 1000·2^7 capped at 60 s
    [2, 40, false, undefined, 0.5, { delayMs: 30_000 }], // huge exponents stay capped
    [3, 3, false, undefined, 0.5, 'give-up'], // attempts exhausted
    [0, 50, true, undefined, 0.25, { delayMs: 15_000 }], // network failures never give up
    [99, 5, true, undefined, 0.25, { delayMs: 4000 }],
    [1, 1, false, 2000, 0.1, { delayMs: 2000 }], // Retry-After wins over jitter
    [1, 1, false, 10 * 24 * 3600_000, 0.1, { delayMs: 600_000 }], // a hostile Retry-After is capped
    [3, 3, false, 2000, 0.1, 'give-up'], // …but not over maxAttempts
  ] as const)('attempts=%i failures=%i network=%s retryAfter=%s random=%s → %j', (attempts, failures, network, retryAfterMs, random, expected) => {
    expect(nextRetry({ attempts, failures, network, retryAfterMs, random }, policy)).toEqual(expected);
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
