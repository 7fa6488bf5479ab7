import fc from 'fast-check';

/**
 * Property tests run a fixed list of seeds, so a CI failure can be replayed; `FC_SEED=n` runs one seed (e.g. a
 * new random one while exploring) and `FC_RUNS` the total number of runs.
 */
export const SEEDS: readonly number[] = process.env.FC_SEED ? [Number(process.env.FC_SEED)] : [20261201, 7, 424242];

/** Asserts the property over every seed, `runs` runs in all; a failure names its seed and how to replay it. */
export async function assertSeeds<T>(property: fc.IAsyncProperty<T>, runs: number): Promise<void> {
  const total = Number(process.env.FC_RUNS ?? runs);
  for (const seed of SEEDS) {
    try {
      await fc.assert(property, { numRuns: Math.ceil(total / SEEDS.length), seed, endOnFailure: true });
    } catch (error) {
      const cause = (error as Error).cause;
      const why = cause instanceof Error ? `\ncause: ${cause.message}` : '';
      throw new Error(`property failed with seed ${seed} (replay: FC_SEED=${seed} npx vitest run …)\n${(error as Error).message}${why}`);
    }
  }
}
