// Types of scripts/soak.mjs for the soak spec.
export interface SoakResult {
  ok: boolean;
  seed: number;
  seconds: number;
  tracked: number;
  delivered: number;
  missing: number;
  duplicatesBeforeDedup: number;
  requests: number;
  byStatus: Record<string, number>;
  actions: Record<string, number>;
  faults: Record<string, number>;
  tabs: Record<string, unknown>[];
  problems: string[];
}
export declare function runSoak(opts?: { seconds?: number; seed?: number; tabs?: number; sw?: boolean; log?: (line: string) => void }): Promise<SoakResult>;
export declare function formatTable(result: SoakResult): string;
