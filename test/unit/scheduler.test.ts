import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/core/scheduler';
import { createFakeClock } from '../helpers/fake-clock';

function setup(timers = true) {
  const clock = createFakeClock(0);
  const calls: string[] = [];
  const s = createScheduler({
    clock,
    timers,
    intervalMs: 1000,
    onEndOfTask: () => calls.push('end'),
    onInterval: () => calls.push('interval'),
    onGateOpen: () => calls.push('gate'),
  });
  return { clock, calls, s };
}

describe('scheduler', () => {
  it('runs the end-of-task callback once per task however often it is asked', async () => {
    const { s, calls } = setup();
    s.endOfTask();
    s.endOfTask();
    s.endOfTask();
    await Promise.resolve();
    expect(calls).toEqual(['end']);
    s.endOfTask();
    await Promise.resolve();
    expect(calls).toEqual(['end', 'end']);
  });

  it('arms the interval once, on the injected clock; with timers off never', async () => {
    const on = setup();
    on.s.armInterval();
    on.s.armInterval();
    await on.clock.advance(999);
    expect(on.calls).toEqual([]);
    await on.clock.advance(1);
    expect(on.calls).toEqual(['interval']);
    const off = setup(false);
    off.s.armInterval();
    await off.clock.advance(5000);
    expect(off.calls).toEqual([]);
  });

  it('the backoff gate only moves later, opens on its timer, and openGate() opens it at once', async () => {
    const { s, clock, calls } = setup();
    s.closeGateUntil(2000);
    s.closeGateUntil(500); // earlier: ignored
    expect(s.gatedFor(0)).toBe(2000);
    await clock.advance(1999);
    expect(calls).toEqual([]);
    await clock.advance(1);
    expect(calls).toEqual(['gate']);
    expect(s.gatedFor(clock.now())).toBe(0);
    s.closeGateUntil(clock.now() + 10_000);
    expect(s.gatedFor(clock.now())).toBe(10_000);
    s.openGate();
    expect(s.gatedFor(clock.now())).toBe(0);
    await clock.advance(20_000);
    expect(calls).toEqual(['gate']); // the cleared timer never fired
  });

  it('stop() clears every timer', async () => {
    const { s, clock, calls } = setup();
    s.armInterval();
    s.closeGateUntil(500);
    s.gatedFor(0);
    s.stop();
    await clock.advance(10_000);
    expect(calls).toEqual([]);
    expect(clock.pending()).toBe(0);
  });
});
