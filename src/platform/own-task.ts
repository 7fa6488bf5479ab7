// The page client's own task (core/client.ts `nextTask`): where its write-ahead, the lines of its spans and its sends
// run, after the caller's task and behind the page's own work.

/** The longest a busy page holds the client's own task back: records wait in memory only this long. @default 100 ms */
export const OWN_TASK_BOUND_MS = 100;

interface PostTask {
  postTask?(run: () => void, options: { priority: 'background' }): Promise<unknown>;
}

/**
 * A task of its own for the client in a page. With `scheduler.postTask` (Chromium, Firefox) a background-priority
 * task: it runs when the page has no task of normal priority waiting, and no later than OWN_TASK_BOUND_MS (a timer).
 * Without it (WebKit), a `setTimeout(0)` task. Hidden tabs throttle timers (≥ 1 s); what a tab holds as it hides is
 * written and sent by the page's lifecycle steps, not here.
 */
export function ownTask(): (run: () => void) => void {
  const scheduler = (globalThis as { scheduler?: PostTask }).scheduler;
  return (run) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const once = () => {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      run();
    };
    timer = setTimeout(once, scheduler?.postTask ? OWN_TASK_BOUND_MS : 0);
    scheduler?.postTask?.(once, { priority: 'background' }).catch(once);
  };
}
