/** Writes one decision to the console when `debug` is on. */
export type Log = (message: string) => void;
/** Hands an internal or upstream error to the host's `onError` (logged too); never throws. */
export type Report = (error: unknown) => void;

/** The relay's two ways of telling the host: `log` (console.debug under `debug`) and `report` (onError). */
export function createLog(o: { debug: boolean; onError?: (error: Error) => void }): { log: Log; report: Report } {
  const log: Log = (message) => {
    if (o.debug) console.debug(`[outbox relay] ${message}`);
  };
  const report: Report = (error) => {
    const e = error instanceof Error ? error : new Error(String(error));
    log(`error: ${e.message}`);
    try {
      o.onError?.(e);
    } catch {
      /* the host's handler failed: nothing more to do */
    }
  };
  return { log, report };
}
