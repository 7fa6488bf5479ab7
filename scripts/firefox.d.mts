// Types for firefox.mjs, so playwright.config.ts can import it under strict TypeScript.
export declare function findFirefox(): string;
