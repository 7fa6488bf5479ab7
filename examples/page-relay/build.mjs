// Bundles the page (browser) into public/page.js and the server (Node, packages left as imports) into dist/server.js.
import { build } from 'esbuild';

await build({ entryPoints: ['src/page.ts'], outfile: 'public/page.js', bundle: true, format: 'esm', platform: 'browser', target: 'es2020', minify: true });
await build({ entryPoints: ['src/server.ts'], outfile: 'dist/server.js', bundle: true, format: 'esm', platform: 'node', packages: 'external' });
