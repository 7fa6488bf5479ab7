/**
 * Runs `work` one at a time: a call while it runs shares that run and asks for one more pass when it ends (the
 * trigger may mean the server came back after the running pass failed). `onSettled` runs after each run.
 */
export function singleFlight(work: () => Promise<void>, onSettled: () => void): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const pass = async (): Promise<void> => {
    again = false;
    try {
      await work();
    } catch (error) {
      if (again) return pass();
      throw error;
    }
    if (again) return pass();
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = Promise.resolve()
      .then(pass)
      .finally(() => {
        running = null;
        onSettled();
      });
    return running;
  };
}
