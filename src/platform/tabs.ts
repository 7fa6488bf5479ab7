/**
 * Tab liveness with Web Locks: each client holds the exclusive lock `outbox:tab:<tabId>` while its page is alive,
 * so any other same-origin client can ask `navigator.locks.query()` which owners are alive. The browser releases a
 * lock 30–130 ms after the page closes, navigates, reloads or crashes (platform-facts §3), which is what makes a
 * dead tab's stored events safe to adopt. A page entering the back/forward cache lets its lock go (`suspend`) and
 * takes it again when restored (`resume`): a cached page's lock evicts it as soon as another client asks about it
 * (`WebLocksContention`, platform-facts §5).
 */

/** Prefix of the per-client lock names. */
export const TAB_LOCK_PREFIX = 'outbox:tab:';
/** The lock one client at a time holds while it adopts other clients' stored events. */
export const DRAIN_LOCK = 'outbox:drain';

/** A client's hold on its tab lock, and questions about the others. */
export interface TabLock {
  readonly tabId: string;
  /** Resolves true once this client holds its lock (again, after a resume), false if it could not be taken. */
  readonly held: Promise<boolean>;
  /** Ids of the clients whose tab lock is held now (this one included). */
  liveOwners(): Promise<Set<string>>;
  /** Runs `fn` under `name` if no other client holds it (`ifAvailable`); resolves undefined otherwise. */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;
  /**
   * Resolves once client `tabId` is gone: a pending request for its lock is granted exactly when the browser
   * releases it (and released at once). Rejects when `suspend()` withdraws it. Note: a pending request evicts a
   * page holding it from the bfcache.
   */
  whenGone(tabId: string): Promise<void>;
  /**
   * The page enters the back/forward cache: lets the tab lock go and withdraws pending `whenGone` requests, in
   * this task (a lock call reaching the browser after the freeze evicts the page).
   */
  suspend(): void;
  /** Back from the back/forward cache: takes the tab lock again (`held` then waits for it). */
  resume(): void;
  /** Releases the tab lock for good (at shutdown): from then on other clients may adopt what this one left stored. */
  release(): void;
}

/** Takes the tab lock for `tabId`; returns null where Web Locks are missing (the caller falls back to heartbeats). */
export function createTabLock(tabId: string, locks: LockManager | undefined = globalThis.navigator?.locks): TabLock | null {
  if (!locks || typeof locks.request !== 'function' || typeof locks.query !== 'function') return null;
  let letGo: (() => void) | undefined;
  let released = false;
  let waiting = new AbortController();
  let held: Promise<boolean>;

  function acquire(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      try {
        locks
          .request(TAB_LOCK_PREFIX + tabId, { mode: 'exclusive' }, () => {
            resolve(true);
            return released ? undefined : new Promise<void>((r) => (letGo = r));
          })
          .catch(() => resolve(false));
      } catch {
        resolve(false); // e.g. SecurityError in an opaque origin
      }
    });
  }

  held = acquire();
  return {
    tabId,
    get held() {
      return held;
    },
    async liveOwners() {
      const snapshot = await locks.query();
      const owners = new Set<string>();
      for (const l of snapshot.held ?? []) {
        if (l.name?.startsWith(TAB_LOCK_PREFIX)) owners.add(l.name.slice(TAB_LOCK_PREFIX.length));
      }
      return owners;
    },
    async exclusive(name, fn) {
      return locks.request(name, { mode: 'exclusive', ifAvailable: true }, (l) => (l ? fn() : undefined));
    },
    async whenGone(other) {
      await locks.request(TAB_LOCK_PREFIX + other, { mode: 'exclusive', signal: waiting.signal }, () => undefined);
    },
    suspend() {
      waiting.abort();
      letGo?.();
      letGo = undefined;
    },
    resume() {
      if (released) return;
      waiting = new AbortController();
      held = acquire();
    },
    release() {
      released = true;
      letGo?.();
    },
  };
}

/** A random client id (hex, 128 bits): one per client, so crypto.randomUUID's cost does not matter here. */
export function newTabId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
