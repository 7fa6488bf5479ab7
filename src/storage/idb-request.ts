/** Promises over IndexedDB requests, transactions and the connection; each has an error path and none can hang. */

/** Resolves when the transaction commits; rejects when it aborts or errs. */
export function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export function req<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`IndexedDB did not answer within ${ms} ms`)), ms);
    work.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

/**
 * Opens `dbName` with object store `storeName`, creating either as needed. A database another tab upgraded without
 * our store (or recreated) is upgraded once more to add it. `onBlocked` hears of an open that waits for another
 * tab's connection to close. Rejects (never throws) when `indexedDB` is missing or refuses.
 */
export function openDatabase(dbName: string, storeName: string, onBlocked?: () => void): Promise<IDBDatabase> {
  const open = (version?: number) =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const request = version === undefined ? indexedDB.open(dbName) : indexedDB.open(dbName, version);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(storeName)) request.result.createObjectStore(storeName);
      };
      request.onblocked = () => onBlocked?.();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB open failed'));
    });
  return (async () => {
    const db = await open();
    if (db.objectStoreNames.contains(storeName)) return db;
    const version = db.version + 1;
    db.close();
    return open(version);
  })();
}
