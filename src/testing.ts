/**
 * Not shipped (built to dist/testing/, left out of the package's `files`): the browser entry plus what benchmarks,
 * tests and the demo inspect from outside — the IndexedDB storage behind a client (`transactions`, `size()`).
 */
export * from './index';
export { durableStorageOf } from './platform/durable';
