import type { RelayContext } from './options';

/** Background (beacon) deliveries still running: started with `run`, counted by `size`, awaited by `idle`. */
export function createBackground() {
  const tasks = new Set<Promise<void>>();
  return {
    /** Tracks `task` until it settles and hands it to the platform's `waitUntil`, if any. */
    run(task: Promise<void>, ctx: RelayContext | undefined): void {
      tasks.add(task);
      void task.finally(() => tasks.delete(task));
      ctx?.waitUntil?.(task);
    },
    get size(): number {
      return tasks.size;
    },
    /** Resolves once every task started so far (and any started meanwhile) has settled. */
    async idle(): Promise<void> {
      while (tasks.size > 0) await Promise.all([...tasks]);
    },
  };
}
