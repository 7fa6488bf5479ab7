import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SPILL_PREFIX, dropSpill, findSpills, parkNotes, writeSpill } from '../../src/platform/spill';

/** A Map behind the Web Storage interface (Node 20 has no localStorage). */
function fakeLocalStorage(quota = Infinity) {
  const map = new Map<string, string>();
  return {
    map,
    get length() {
      return map.size;
    },
    key: (i: number) => [...map.keys()][i] ?? null,
    getItem: (k: string) => map.get(k) ?? null,
    setItem(k: string, v: string) {
      if (v.length > quota) throw new DOMException('quota', 'QuotaExceededError');
      map.set(k, v);
    },
    removeItem: (k: string) => void map.delete(k),
  };
}

const ev = (id: string) => ({ id, type: 't', ts: 1, line: `{"id":"${id}"}` });
let ls: ReturnType<typeof fakeLocalStorage>;

beforeEach(() => {
  ls = fakeLocalStorage(10_000);
  (globalThis as any).localStorage = ls;
});
afterEach(() => {
  delete (globalThis as any).localStorage;
});

describe('pagehide spill', () => {
  it('is found only for gone owners, and released once safe', () => {
    writeSpill('a', [ev('1'), ev('2')], false);
    writeSpill('b', [ev('3')], false);
    const found = findSpills((owner) => owner === 'a');
    expect(found.map((s) => s.events.map((e) => e.id))).toEqual([['1', '2']]);
    found[0]!.release();
    expect([...ls.map.keys()]).toEqual([SPILL_PREFIX + 'b']);
  });

  it('passes the bfcache flag, so a caller can leave a page that may come back alone', () => {
    writeSpill('c', [ev('1')], true);
    expect(findSpills((_o, persisted) => !persisted)).toEqual([]);
    dropSpill('c');
    expect(ls.map.size).toBe(0);
  });

  it('into the bfcache, writes a park note even without events (WebKit commits no IndexedDB park mark made in pagehide)', () => {
    expect(writeSpill('p', [], true)).toBe(true);
    expect(writeSpill('q', [], false)).toBe(false);
    const before = Date.now();
    writeSpill('r', [ev('1')], true);
    expect(parkNotes().map((n) => n.owner).sort()).toEqual(['p', 'r']);
    expect(parkNotes()[0]!.at).toBeGreaterThanOrEqual(before - 1000);
    dropSpill('p'); // restored
    expect(parkNotes().map((n) => n.owner)).toEqual(['r']);
  });

  it('a park note that cannot be written is reported by its result, not thrown (nothing is lost)', () => {
    ls = fakeLocalStorage(10);
    (globalThis as any).localStorage = ls;
    expect(writeSpill('p', [], true)).toBe(false);
    delete (globalThis as any).localStorage;
    expect(writeSpill('p', [], true)).toBe(false);
  });

  it('writes nothing for no events, removes malformed entries, filters malformed events', () => {
    writeSpill('d', [], false);
    expect(ls.map.size).toBe(0);
    ls.map.set(SPILL_PREFIX + 'junk', '{not json');
    ls.map.set(SPILL_PREFIX + 'odd', JSON.stringify({ owner: 'odd', events: [ev('ok'), { id: 5 }, null] }));
    const found = findSpills(() => true);
    expect(found.map((s) => s.events.map((e) => e.id))).toEqual([['ok']]);
    expect(ls.map.has(SPILL_PREFIX + 'junk')).toBe(false);
  });

  it('keeps the sent mark of a record an unload keepalive carried: withheld for the grace, then sent; the rest at once', () => {
    const now = Date.now();
    writeSpill('g', [ev('plain'), { ...ev('fresh'), sentAt: now - 1_000 }, { ...ev('old'), sentAt: now - 70_000 }], false);
    expect(JSON.parse(ls.map.get(SPILL_PREFIX + 'g')!).events.map((e: { id: string; sentAt?: number }) => [e.id, e.sentAt])).toEqual([
      ['plain', undefined],
      ['fresh', now - 1_000],
      ['old', now - 70_000],
    ]);
    const [found] = findSpills(() => true, 60_000);
    expect(found!.events).toEqual([ev('plain'), ev('old')]); // no sentAt on what is sent: as stored in IndexedDB
    expect(found!.withheld).toEqual([{ ...ev('fresh'), sentAt: now - 1_000 }]);
    found!.release(); // what is withheld stays, and only that
    expect(JSON.parse(ls.map.get(SPILL_PREFIX + 'g')!).events.map((e: { id: string }) => e.id)).toEqual(['fresh']);
    const [later] = findSpills(() => true, 0); // the grace is over
    expect(later!.events.map((e) => e.id)).toEqual(['fresh']);
    later!.release();
    expect(ls.map.size).toBe(0);
  });

  it('lets a quota error through to the caller, who reports it', () => {
    expect(() => writeSpill('e', Array.from({ length: 1000 }, (_, i) => ev(String(i))), false)).toThrow(/quota/);
  });

  it('where localStorage is missing or throws on access, says so (the caller reports it) and finds nothing', () => {
    delete (globalThis as any).localStorage;
    expect(() => writeSpill('f', [], false)).not.toThrow(); // nothing to spill: nothing to say
    expect(() => writeSpill('f', [ev('1')], false)).toThrow(/no localStorage.*1 record\(s\) not yet committed/);
    Object.defineProperty(globalThis, 'localStorage', {
      configurable: true,
      get() {
        throw new DOMException('The document is sandboxed', 'SecurityError');
      },
    });
    expect(() => writeSpill('f', [ev('1')], false)).toThrow(/localStorage is unavailable \(SecurityError: The document is sandboxed\)/);
    expect(findSpills(() => true)).toEqual([]);
    delete (globalThis as any).localStorage;
  });
});
