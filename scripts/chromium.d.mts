// Types for chromium.mjs, so playwright.config.ts can import it under strict TypeScript.
export declare const CHROMIUM_ARGS: string[];
export declare function findChromium(options?: { install?: boolean }): Promise<string>;
