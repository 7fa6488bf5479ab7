// Where the page's blocking µs go: a Chromium CPU profile (CDP Profiler) of the observations benchmark's page loop
// (bench/observations.mjs: chunks of 100 observations, each chunk followed by a macrotask, then flush), for one
// client, summed by function (self time) and by the call-tree frame (total time), in µs per observation.
// Not part of `npm run bench`: a diagnostic. Usage (after `node scripts/build.mjs`, for dist/relay.js):
//   node bench/profile-observations.mjs [outbox|otel-web|outbox-active|otel-web-active|outbox-observe|otel-web-observe] [n] [top]
// Environment: REPEAT (profiled runs after one warm-up, default 3), OUTBOX_OPTIONS (JSON merged into the page
// client's options, e.g. '{"storage":"memory"}'). Outbox is bundled unminified from src/testing.ts. Each run's
// profile is written to bench/results/profile-<client>-<run>.cpuprofile (DevTools opens it).
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { chromium } from '@playwright/test';
import { startCollector } from '../demo/collector/server.mjs';
import { CHROMIUM_ARGS } from '../scripts/chromium.mjs';
import { openPage } from './browser.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const [name = 'outbox', nArg = '4000', topArg = '30'] = process.argv.slice(2);
const n = Number(nArg);

const staticDirs = [
  { prefix: '/dist/', dir: dist },
  { prefix: '/bench/', dir: path.join(root, 'bench') },
];
const collector = await startCollector({ langfuse: 'v4', staticDirs });
const { createRelay, toNodeListener } = await import(path.join(dist, 'relay.js'));
const listener = toNodeListener(createRelay({ upstream: { baseUrl: collector.url, publicKey: 'pk-bench', secretKey: 'sk-bench' }, allowOrigins: [collector.url], rateLimit: false }));
let relayRequests = 0;
const relayServer = http.createServer((req, res) => (req.method === 'POST' && relayRequests++, listener(req, res)));
await new Promise((resolve) => relayServer.listen(0, '127.0.0.1', resolve));
const relayUrl = `http://127.0.0.1:${relayServer.address().port}`;
mkdirSync(path.join(root, 'bench', 'results', 'build'), { recursive: true });
// Outbox unminified (readable function names), from the same source as dist/testing/outbox.browser.js.
await build({ entryPoints: [path.join(root, 'src', 'testing.ts')], outfile: path.join(root, 'bench', 'results', 'build', 'outbox-testing.js'), bundle: true, minify: false, format: 'esm', platform: 'browser', target: 'es2020', mainFields: ['module', 'main'], define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'error' });
await build({ entryPoints: [path.join(root, 'bench', 'otel-web-entry.mjs')], outfile: path.join(root, 'bench', 'results', 'build', 'otel-web.js'), bundle: true, minify: false, format: 'esm', platform: 'browser', target: 'es2020', logLevel: 'error' });

const browser = await chromium.launch({ headless: true, executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const { page, cdp } = await openPage(browser, collector);
  await page.evaluate(
    async ({ relayUrl, otlpUrl, basic, name, extra }) => {
      window.__ob = await import('/bench/results/build/outbox-testing.js');
      const w = await import('/bench/observation-work.mjs');
      const { createOtelWeb } = await import('/bench/results/build/otel-web.js');
      const outbox = window.__ob.createOutbox({ relay: relayUrl, publicKey: 'pk-bench', ...extra });
      const otel = createOtelWeb({ url: otlpUrl, headers: { Authorization: basic } });
      const store = window.__ob.durableStorageOf?.(outbox);
      const clients = {
        outbox: [(i) => w.observationWork(outbox.startObservation, i), outbox.flush],
        'otel-web': [(i) => w.otelWork(otel.tracer, i), otel.flush],
        'outbox-active': [(i) => w.activeWork(outbox.startActiveObservation, i), outbox.flush],
        'otel-web-active': [(i) => w.otelActiveWork(otel.tracer, i), otel.flush],
        'outbox-observe': [w.makeObserveWork(outbox.observe), outbox.flush],
        'otel-web-observe': [w.makeOtelObserveWork(otel.tracer), otel.flush],
      };
      const [work, flush] = clients[name];
      window.__work = work;
      window.__flush = async () => {
        await flush();
        if (name.startsWith('outbox')) await store?.flushWrites();
      };
    },
    { relayUrl, otlpUrl: collector.otlpEndpoint, basic: `Basic ${Buffer.from('pk-bench:sk-bench').toString('base64')}`, name, extra: JSON.parse(process.env.OUTBOX_OPTIONS ?? '{}') },
  );
  // `flush` false: the profile covers the measured loop only (what the bench counts as blocking), not the flush.
  const loop = (n, flush = true) =>
    page.evaluate(async ([n, flush]) => {
      const channel = new MessageChannel();
      const macrotask = () => new Promise((resolve) => ((channel.port1.onmessage = resolve), channel.port2.postMessage(0)));
      await macrotask();
      let blockingMs = 0;
      for (let i = 0; i < n; i += 100) {
        const a = performance.now();
        for (let j = i; j < Math.min(n, i + 100); j++) window.__work(j);
        await macrotask();
        blockingMs += performance.now() - a;
      }
      if (flush) await window.__flush();
      return blockingMs;
    }, [n, flush]);
  await loop(n); // warm-up
  await collector.waitFor((c) => c.stats().observationsStored >= n, 60_000).catch(() => undefined);
  collector.reset();
  relayRequests = 0;
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  // REPEAT runs (default 3), each profiled on its own; their samples are summed below.
  const repeat = Number(process.env.REPEAT ?? 3);
  const profiles = [];
  const blockings = [];
  for (let r = 0; r < repeat; r++) {
    relayRequests = 0;
    await cdp.send('Profiler.start');
    blockings.push(await loop(n, false));
    profiles.push((await cdp.send('Profiler.stop')).profile);
    await page.evaluate(() => window.__flush());
    await collector.waitFor((c) => c.stats().observationsStored >= n, 60_000).catch(() => undefined);
    collector.reset();
  }
  const blockingMs = blockings.reduce((a, b) => a + b, 0) / repeat;
  profiles.forEach((p, r) => writeFileSync(path.join(root, 'bench', 'results', `profile-${name}-${r}.cpuprofile`), JSON.stringify(p)));
  // Self time per node from the samples.
  const label = (x) => {
    const f = x.callFrame;
    const file = f.url ? f.url.replace(/^.*\//, '') : '';
    return `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
  };
  const selfBy = new Map();
  const totalBy = new Map();
  let total = 0;
  let idle = 0;
  const perRun = [];
  for (const profile of profiles) {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const parent = new Map();
  for (const x of profile.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  let runTotal = 0;
  for (const [id, us] of self) {
    const x = byId.get(id);
    const l = label(x);
    if (l.startsWith('(idle)') || l.startsWith('(program)')) {
      idle += us;
      continue;
    }
    total += us;
    runTotal += us;
    selfBy.set(l, (selfBy.get(l) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cl = label(byId.get(cur));
      if (seen.has(cl)) continue;
      seen.add(cl);
      totalBy.set(cl, (totalBy.get(cl) ?? 0) + us);
    }
  }
  perRun.push(runTotal / n);
  }
  total /= repeat;
  idle /= repeat;
  for (const m of [selfBy, totalBy]) for (const [k, v] of m) m.set(k, v / repeat);
  const per = (us) => (us / n).toFixed(2).padStart(7);
  const top = Number(topArg);
  console.log(`${name}: ${n} observations; blocking ${((blockingMs * 1000) / n).toFixed(1)} µs/obs; sampled non-idle ${per(total)} µs/obs (idle/program ${per(idle)}); page → relay requests (last run) ${relayRequests}; load ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
  console.log(`per run: blocking ${blockings.map((b) => ((b * 1000) / n).toFixed(1)).join(' ')} µs/obs; sampled CPU ${perRun.map((x) => x.toFixed(1)).join(' ')} µs/obs`);
  console.log('--- self µs/obs');
  for (const [l, us] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(per(us), l);
  console.log('--- total µs/obs');
  for (const [l, us] of [...totalBy].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(per(us), l);
} finally {
  await browser.close();
  relayServer.close();
  relayServer.closeAllConnections();
  await collector.close();
}
