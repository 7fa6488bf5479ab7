// Bundles the page and the service worker (browser) into public/, and the server (Node) into dist/server.js.
import { build } from 'esbuild';

const browser = { bundle: true, format: 'esm', platform: 'browser', target: 'es2020', minify: true };
await build({ ...browser, entryPoints: ['src/page.ts'], outfile: 'public/page.js' });
await build({ ...browser, format: 'iife', entryPoints: ['src/sw.ts'], outfile: 'public/sw.js' }); // a classic worker: every browser
await build({ entryPoints: ['src/server.ts'], outfile: 'dist/server.js', bundle: true, format: 'esm', platform: 'node', packages: 'external' });
