/** Packs the built package into `dir` (default test-results/package/); returns the tarball's absolute path. */
export declare function pack(dir?: string): string;
