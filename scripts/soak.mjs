// Chaos soak: 3 tabs that track, navigate, reload and crash at random moments (also while a write-ahead write
// runs), the service worker on, and a collector whose answers change every few seconds. The collector counts every
// accepted arrival of each id (its store keeps one row per id; `arrivals()` keeps them all). The run fails on any
// loss (a record committed before a crash, or tracked by a document that was not crashed, that never arrived), on
// duplicates above 0.1 % of the records (before any dedup), and on broken conservation in a surviving tab; it
// prints duplicates by cause. Fixed seed (printed); bounded in time and in records; everything on 127.0.0.1.
//
// By default the tabs send through `outbox/relay` (mounted at /lf on the collector's server, forwarding to the
// collector): the tabs use `createOutbox({ relay: '/lf' })` and the worker asks the relay's receipts before a resend.
// Duplicates are then counted at the relay's ingress, before its dedup, from the relay's own answer per id (an id
// the relay answered as taken, arriving again, is a duplicate whether or not the relay forwarded it); the collector
// behind it still counts its arrivals (printed as "the store saw"). `--direct` sends to the collector itself, as
// pages that send scores straight to Langfuse do; there nothing can tell a resend that the first arrived.
// Usage: npm run soak -- --minutes N [--seed S] [--tabs T] [--no-sw] [--direct]
import { chromium } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCollector } from '../demo/collector/server.mjs';
import { CHROMIUM_ARGS, findChromium } from './chromium.mjs';
import { relayIngress } from './relay-ingress.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The build the tabs load: OUTBOX_DIST (another build, to compare) or this tree's dist/. */
const dist = process.env.OUTBOX_DIST ?? path.join(root, 'dist');
/** Records tracked at most in one run (all tabs): the soak stays bounded whatever its duration. */
const MAX_RECORDS = 50_000;
/** Duplicates (arrivals beyond the first, before any dedup) tolerated, as a share of the records tracked. */
export const MAX_DUPLICATE_SHARE = 0.001;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Picks by weight: `[[weight, value], …]`. */
function pick(rand, table) {
  const total = table.reduce((n, [w]) => n + w, 0);
  let x = rand() * total;
  for (const [w, v] of table) if ((x -= w) < 0) return v;
  return table[table.length - 1][1];
}

/**
 * `work`, or a rejection after `ms` ("Timeout … exceeded", a browser incident) if it has not settled by then: a page
 * whose renderer hangs never answers `evaluate` or `close`, and the soak must go on without it.
 */
function within(ms, work, what) {
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: Timeout ${ms}ms exceeded.`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

async function waitFor(fn, timeoutMs, stepMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await within(Math.max(stepMs, end - Date.now()), fn(), 'waiting').catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) return undefined;
    await sleep(stepMs);
  }
}

/**
 * Runs the soak and returns its result (never throws for a failed check: `ok` says it).
 * @param {{ seconds?: number, seed?: number, tabs?: number, log?: (line: string) => void }} opts
 */
export async function runSoak({ seconds = 60, seed = 20261201, tabs: tabCount = 3, sw = true, relay: viaRelay = true, log = console.log, judgeDuplicates = true } = {}) {
  const rand = prng(seed);
  const run = `soak-${seed}-${Date.now().toString(36)}`;
  log(`[soak] seed ${seed}, ${tabCount} tabs, ${seconds} s, service worker ${sw ? 'on' : 'off'}, ${viaRelay ? 'through the relay at /lf' : 'straight to the collector'}, run ${run}`);
  /** The relay's ingress (with the relay): every arrival of each id the relay answered as taken, and the queries. */
  const ingress = viaRelay
    ? await relayIngress({
        dist,
        options: (upstream) => ({ upstream: { baseUrl: upstream, publicKey: 'pk-soak', secretKey: 'sk-soak' }, publicKeys: ['pk-soak'], allowEventTypes: ['event-create'], rateLimit: false }),
        upstream: () => collector.url,
      })
    : undefined;
  const collector = await startCollector({
    staticDirs: [
      { prefix: '/dist/', dir: dist },
      { prefix: '/fixtures/', dir: path.join(root, 'test/e2e/fixtures') },
      { prefix: '/', dir: dist }, // /outbox-sw.js, so its scope covers the fixture pages
    ],
    mounts: ingress ? [{ prefix: RELAY_PREFIX, listener: ingress.listener }] : [],
  });
  const browser = await chromium.launch({ executablePath: await findChromium(), args: CHROMIUM_ARGS, headless: true });
  const context = await browser.newContext();
  // Under the Playwright test runner a context's default timeouts are off: a navigation that never commits (seen
  // under crash chaos) would hang the soak forever. Bound them as the library does by itself.
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(30_000);
  const url = (tab, n) => `${collector.url}/fixtures/reliability-soak.html?tab=${tab}&n=${n}${sw ? '' : '&sw=0'}${viaRelay ? `&relay=${RELAY_PREFIX}` : ''}`;
  /** Every id handed to `track`, recorded before the call, with the document (tab, serial) that tracked it. */
  const tracked = new Map();
  /** Ids a crash may have taken: not committed to IndexedDB when the crash was ordered (platform-facts §4). */
  const uncommittedAtCrash = new Set();
  /** How each document ended ('crash', 'navigation', 'reload', 'close') and when (ms since epoch), by `tab/serial`. */
  const ended = new Map();
  const docOf = [];
  let idSeq = 0;
  const actions = { track: 0, navigate: 0, reload: 0, crash: 0, 'crash after track': 0, idle: 0 };
  const faults = {};
  const problems = [];
  let navs = 0;
  /**
   * The browser failing the harness, not Outbox: a navigation that timed out, or the fixture's own dynamic import of
   * the bundle failing (seen a few times a minute under crash chaos on 2 cores). The tab is replaced and the soak
   * goes on; each is printed, and too many of them fail the run (it would no longer be a soak of Outbox).
   */
  const incidents = [];
  const harnessFault = (message) => /Failed to fetch dynamically imported module|Timeout \d+ms exceeded/.test(message);
  /** Pages whose fixture failed to import the bundle (the browser's module loader, before any Outbox code ran). */
  const importFailed = new WeakSet();

  /**
   * A tab that does not boot counts against Outbox, unless the browser's own failure is proven: the fixture's
   * `import()` of the bundle failed (the service worker handles only POSTs to the endpoint, so not Outbox's doing).
   */
  async function boot(page) {
    const ok = await waitFor(() => page.evaluate(() => window.soakReady === true), 15_000);
    if (ok) return;
    if (importFailed.has(page)) throw new Error(`Failed to fetch dynamically imported module (tab did not boot): ${page.url()}`);
    throw new Error(`tab did not boot (no browser failure seen): ${page.url()}`);
  }
  /** A new document in tab `tab` (the one before ended by `how`). */
  function newDoc(tab, how) {
    if (docOf[tab] !== undefined && how) ended.set(`${tab}/${docOf[tab]}`, { how, at: Date.now() });
    docOf[tab] = navs;
  }
  async function open(tab) {
    const page = await within(20_000, context.newPage(), 'newPage');
    page.on('pageerror', (e) => {
      if (/Failed to fetch dynamically imported module/.test(e.message)) importFailed.add(page);
      (harnessFault(e.message) ? incidents : problems).push(`tab ${tab}: pageerror ${e.message}`);
    });
    newDoc(tab);
    await within(35_000, page.goto(url(tab, navs++)), 'goto');
    await boot(page);
    return page;
  }
  /** `open(t)` after a failure: tried up to 3 times, each failure recorded (a run must end with its table). */
  async function reopen(t) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await open(t);
      } catch (error) {
        const message = `tab ${t}: reopening failed: ${error.message.split('\n')[0]}`;
        (harnessFault(error.message) ? incidents : problems).push(message);
        note(message);
        if (attempt === 3) throw error;
      }
    }
  }
  /** New ids for tab `t`'s current document, recorded as tracked before they are handed to `track`. */
  function newIds(t, n) {
    const ids = [];
    for (let i = 0; i < n; i++) {
      const id = `${run}-${t}-${idSeq++}`;
      tracked.set(id, `${t}/${docOf[t]}`);
      ids.push(id);
    }
    return ids;
  }

  /**
   * When a service worker stopped (its renderer crashed with a tab it shared a process with, or the browser stopped
   * it): an answer only the worker saw is lost then, and what its pages resend is a duplicate nobody in the browser
   * could avoid. Duplicates of live documents right after one are counted as 'worker stopped'.
   */
  const workerStops = [];
  // Seen through CDP's ServiceWorker domain, from an observer tab that is never crashed: a worker runs in the renderer
  // of one of its pages and dies with it (runningStatus running → stopped), then restarts under the same target id;
  // neither Playwright's Worker 'close' nor Target.targetDestroyed reports that.
  const observer = await context.newPage();
  const workerStatus = new Map();
  const watch = await context.newCDPSession(observer);
  watch.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) {
      const was = workerStatus.get(v.versionId);
      if ((was === 'running' || was === 'starting') && v.runningStatus === 'stopped') workerStops.push(Date.now());
      workerStatus.set(v.versionId, v.runningStatus);
    }
  });
  await watch.send('ServiceWorker.enable');
  const tabs = [];
  for (let t = 0; t < tabCount; t++) tabs.push(await open(t));
  const startedAt = Date.now();
  const deadline = startedAt + seconds * 1000;
  /** What happened when (ms from the start): printed around the requests that carried missing records. */
  const timeline = [];
  const note = (what) => timeline.push({ at: Date.now() - startedAt, what });

  let lastBeat = startedAt;
  // The collector's answers change every 2–4 s.
  const faultLoop = (async () => {
    while (Date.now() < deadline) {
      const recent = [...tracked.keys()].slice(-200);
      const fault = pick(rand, [
        [35, { mode: 'none' }],
        [12, { mode: 'down' }],
        [12, { mode: 'status', status: 503, retryAfter: 1 }],
        [8, { mode: 'status', status: 429, retryAfter: 1 }],
        [8, { mode: 'status', status: 500 }],
        [15, { mode: 'slow', delayMs: 300 + Math.floor(rand() * 900) }],
        [10, { mode: 'fail-ids', ids: Object.fromEntries(recent.filter(() => rand() < 0.05).map((id) => [id, rand() < 0.5 ? 500 : 429])) }],
      ]);
      collector.setFault(fault);
      if (Date.now() - lastBeat > 15_000) {
        lastBeat = Date.now();
        log(`[soak] +${Math.round((lastBeat - startedAt) / 1000)} s: ${tracked.size} tracked, actions ${JSON.stringify(actions)}, ${incidents.length} incident(s)`);
      }
      note(`fault ${fault.mode}${fault.status ? ` ${fault.status}` : ''}`);
      faults[fault.mode] = (faults[fault.mode] ?? 0) + 1;
      await sleep(2000 + rand() * 2000);
    }
    collector.setFault({ mode: 'none' });
  })();

  async function chaos(t) {
    while (Date.now() < deadline) {
      const action = tracked.size >= MAX_RECORDS ? 'idle' : pick(rand, [[50, 'track'], [14, 'navigate'], [14, 'reload'], [4, 'crash'], [3, 'crash after track'], [15, 'idle']]);
      actions[action]++;
      const page = tabs[t];
      if (action !== 'idle') note(`tab ${t} ${action} (${page.url().replace(collector.url, '')})`);
      try {
        if (action === 'track') {
          const ids = newIds(t, 1 + Math.floor(rand() * 40));
          await within(20_000, page.evaluate(({ run, t, ids }) => window.soakTrack(run, t, ids), { run, t, ids }), 'track');
        } else if (action === 'navigate') {
          newDoc(t, 'navigation');
          await within(35_000, page.goto(url(t, navs++)), 'goto');
          await boot(page);
        } else if (action === 'reload') {
          newDoc(t, 'reload');
          navs++;
          await within(35_000, page.reload(), 'reload');
          await boot(page);
        } else if (action !== 'idle') {
          // A renderer crash at a random moment: right after tracking (the write-ahead write still running), or
          // 0–300 ms into whatever the tab is doing (sends, marks, recovery). The ids not committed when the crash is
          // ordered may be lost (platform-facts §4, a crash before `complete` keeps nothing); any other id must arrive.
          const cdp = await within(10_000, context.newCDPSession(page), 'cdp');
          let atRisk;
          if (action === 'crash after track') {
            const ids = newIds(t, 1 + Math.floor(rand() * 40));
            atRisk = await within(20_000, page.evaluate(({ run, t, ids }) => (window.soakTrack(run, t, ids), window.soakUncommitted()), { run, t, ids }), 'track');
          } else {
            await sleep(rand() * 300);
            atRisk = await within(20_000, page.evaluate(() => window.soakUncommitted()), 'uncommitted');
          }
          for (const id of atRisk) uncommittedAtCrash.add(id);
          const crashed = new Promise((r) => page.once('crash', r));
          newDoc(t, 'crash');
          cdp.send('Page.crash').catch(() => undefined); // answers never: the renderer is gone
          await Promise.race([crashed, sleep(3000)]);
          await within(10_000, page.close(), 'close').catch(() => undefined);
          tabs[t] = await open(t);
        }
      } catch (error) {
        const message = `tab ${t}: ${action} failed: ${error.message.split('\n')[0]}`;
        (harnessFault(error.message) ? incidents : problems).push(message);
        note(message);
        newDoc(t, 'close');
        await within(10_000, tabs[t].close(), 'close').catch(() => undefined);
        tabs[t] = await reopen(t).catch(() => null);
        if (!tabs[t]) return; // this tab is out of the run (recorded above)
      }
      await sleep(100 + rand() * 500);
    }
  }

  await Promise.all([faultLoop, ...tabs.map((_, t) => chaos(t))]);
  log(`[soak] chaos over: ${tracked.size} records tracked; settling`);

  // Settle: the collector is healthy; every tab sends what it holds; a sweeper tab adopts what gone documents
  // left in IndexedDB and asks the service worker to replay its queue.
  collector.setFault({ mode: 'none' });
  const sweeper = await open('sweeper');
  const all = [...tabs.filter(Boolean), sweeper];
  const deliveredIds = () => {
    const ids = new Set();
    for (const e of collector.events()) if (e.body?.soak === run) ids.add(e.id);
    return ids;
  };
  const settled = await waitFor(async () => {
    for (const p of all) await within(5000, p.evaluate(() => dispatchEvent(new Event('online'))), 'online').catch(() => undefined);
    const got = deliveredIds();
    return [...tracked.keys()].every((id) => got.has(id) || uncommittedAtCrash.has(id));
  }, 120_000, 1000);
  // Surviving tabs: nothing queued or in flight any more, and the account balances.
  const rows = [];
  for (const [i, p] of all.entries()) {
    const s = await waitFor(async () => {
      const st = await within(5000, p.evaluate(() => window.outbox.stats()), 'stats');
      return st.queued === 0 && st.inflight === 0 ? st : undefined;
    }, 30_000).catch(() => undefined) ?? (await within(5000, p.evaluate(() => window.outbox.stats()), 'stats').catch(() => undefined));
    if (!s) {
      problems.push(`tab ${i}: no stats`);
      continue;
    }
    const dropped = Object.values(s.dropped).reduce((n, x) => n + x, 0);
    const balanced = s.tracked + s.recovered === s.sent + s.handedOff + s.queued + s.inflight + dropped;
    if (!balanced) problems.push(`tab ${p === sweeper ? 'sweeper' : i}: conservation broken ${JSON.stringify(s)}`);
    const errs = await within(5000, p.evaluate(() => window.soakErrors), 'errors').catch(() => []);
    for (const e of errs) problems.push(`tab ${i}: ${e}`);
    rows.push({ tab: p === sweeper ? 'sweeper' : String(i), ...s, dropped, balanced });
  }

  const got = deliveredIds();
  const lostAll = [...tracked.keys()].filter((id) => !got.has(id));
  // Lost in IndexedDB's crash window: not committed when the crash was ordered. Printed; not Outbox's to keep.
  const lostUncommitted = lostAll.filter((id) => uncommittedAtCrash.has(id));
  const missing = lostAll.filter((id) => !uncommittedAtCrash.has(id));
  // Where the missing ones are, if anywhere: Outbox's IndexedDB segments, the service worker's Workbox queue.
  const whereabouts = missing.length === 0 ? {} : await within(20_000, sweeper.evaluate(async (missing) => {
    const read = (db, store) => new Promise((resolve) => {
      const open = indexedDB.open(db);
      open.onsuccess = () => {
        const d = open.result;
        if (!d.objectStoreNames.contains(store)) return (d.close(), resolve([]));
        const all = d.transaction(store, 'readonly').objectStore(store).getAll();
        all.onsuccess = () => (d.close(), resolve(all.result));
        all.onerror = () => (d.close(), resolve([]));
      };
      open.onerror = () => resolve([]);
    });
    const want = new Set(missing);
    const segments = await read('outbox', 'segments');
    const inSegments = segments.flatMap((s) => (s.events ?? []).filter((e) => want.has(e.id)).map((e) => `${e.id} owner ${s.owner}${e.sentAt ? ' marked' : ''}`));
    const requests = await read('workbox-background-sync', 'requests');
    const inWorkbox = requests.filter((r) => { const b = r.requestData?.body; const t = b ? new TextDecoder().decode(b) : ''; return missing.some((id) => t.includes(id)); }).length;
    const spills = Object.keys(localStorage).filter((k) => k.startsWith('outbox:spill:') && missing.some((id) => localStorage.getItem(k).includes(id)));
    const locks = (await navigator.locks.query()).held.map((l) => l.name);
    return { inSegments, inWorkbox, spills, locks };
  }, missing), 'whereabouts').catch((e) => ({ error: String(e) }));
  if (missing.length > 0) {
    const seenIn = collector.requests().filter((r) => r.ids.some((id) => missing.includes(id))).map((r) => `${r.status} ${r.contentType} ${r.auth} ${r.count} rec at +${r.at - startedAt} ms from ${r.referer?.replace(collector.url, '') ?? '?'}`);
    log(`[soak] missing records: ${JSON.stringify({ ...whereabouts, requestsThatCarriedThem: seenIn })}`);
    for (const r of collector.requests().filter((r) => r.ids.some((id) => missing.includes(id)))) {
      const at = r.at - startedAt;
      log(`[soak] around +${at} ms: ${timeline.filter((e) => Math.abs(e.at - at) < 4000).map((e) => `+${e.at} ${e.what}`).join('; ')}`);
    }
  }
  const extra = [...got].filter((id) => !tracked.has(id));
  const stats = collector.stats();
  // Every accepted arrival, before any dedup: an id arriving n times is n − 1 duplicates, each given the cause
  // that ended the document which tracked it before that arrival (or 'document alive' when it had not ended).
  const arrivals = ingress ? ingress.arrivals : collector.arrivals();
  const byCause = {};
  /** The first few duplicates told in full: each arrival (via, the answer's status), how the document ended, what happened around. */
  const storiesOf = {};
  const STORIES = 3;
  const rel = (at) => `+${at - startedAt}`;
  const story = (id, doc, end, list) => {
    const tab = doc.split('/')[0];
    const arr = list.map((a) => `${rel(a.at)} via ${a.referer?.includes('/outbox-sw.js') ? 'worker' : 'page'} → ${a.request?.status ?? '?'} (${a.request?.count ?? '?'} rec)`).join(', ');
    const from = list[0].at - startedAt - 3000;
    const to = list[1].at - startedAt + 500;
    const around = [
      ...timeline.filter((e) => (e.what.startsWith(`tab ${tab} `) || e.what.startsWith('fault') || e.what.includes('crash')) && e.at >= from && e.at <= to),
      ...workerStops.map((at) => ({ at: at - startedAt, what: 'WORKER STOPPED' })).filter((e) => e.at >= from && e.at <= to),
    ].sort((a, b) => a.at - b.at);
    return `  ${id} doc ${doc} ${end ? `ended by ${end.how} at ${rel(end.at)}` : 'alive'}; arrivals ${arr}; tab ${tab}: ${around.map((e) => `+${e.at} ${e.what.replace(`tab ${tab} `, '')}`).join('; ')}`;
  };
  let duplicates = 0;
  let duplicatedIds = 0;
  for (const [id, doc] of tracked) {
    const list = arrivals.get(id) ?? [];
    if (list.length < 2) continue;
    duplicatedIds++;
    const end = ended.get(doc);
    for (const a of list.slice(1)) {
      duplicates++;
      const workerStopped = workerStops.some((at) => at <= a.at && a.at - at < 15_000);
      const cause = end && end.at <= a.at ? end.how : workerStopped ? 'worker stopped' : 'document alive';
      const viaWorker = a.referer?.includes('/outbox-sw.js') ? 'worker' : 'page';
      const row = (byCause[cause] ??= { duplicates: 0, ids: new Set(), worker: 0, page: 0, answerLost: 0, workerDied: 0 });
      row.duplicates++;
      row.ids.add(id);
      row[viaWorker]++;
      // The first arrival's answer never left the collector (status 0): its requester was gone before it (a crashed
      // renderer, a cancelled request), so nobody in the browser could know the record had arrived.
      if (list[0].request?.status === 0) row.answerLost++;
      // The worker died (its renderer crashed) within 2.5 s of the first arrival: its answer, lost or written just
      // before, most likely never reached the worker's acknowledgements.
      if (workerStops.some((at) => at >= list[0].at && at - list[0].at < 2500)) row.workerDied++;
      const kind = `${cause}, first answer ${list[0].request?.status === 0 ? 'lost' : 'delivered'}`;
      const told = (storiesOf[kind] ??= []);
      if (told.length < STORIES) told.push(story(id, doc, end, list));
    }
  }
  for (const [kind, told] of Object.entries(storiesOf)) log(`[soak] duplicates (${kind}), the first ${told.length} (times from the start):\n${told.join('\n')}`);
  if (!settled || missing.length > 0) problems.push(`${missing.length} tracked record(s) never arrived (e.g. ${missing.slice(0, 3).join(', ')})`);
  if (extra.length > 0) problems.push(`${extra.length} record(s) arrived that were never tracked`);
  if (judgeDuplicates && duplicates > tracked.size * MAX_DUPLICATE_SHARE) {
    problems.push(`${duplicates} duplicate arrival(s) in ${tracked.size} records (${pct(duplicates, tracked.size)}), over ${pct(MAX_DUPLICATE_SHARE, 1)}`);
  }
  const acted = Object.values(actions).reduce((n, x) => n + x, 0);
  if (incidents.length > Math.max(3, acted * 0.05)) problems.push(`${incidents.length} browser incidents in ${acted} actions: too many for a soak of Outbox`);

  const result = {
    ok: problems.length === 0,
    seed,
    seconds,
    tracked: tracked.size,
    delivered: got.size,
    missing: missing.length,
    lostUncommitted: lostUncommitted.length,
    uncommittedAtCrash: uncommittedAtCrash.size,
    duplicates,
    duplicatedIds,
    workerStops: workerStops.length,
    duplicatesByCause: Object.fromEntries(Object.entries(byCause).map(([k, v]) => [k, { duplicates: v.duplicates, ids: v.ids.size, sentBy: { worker: v.worker, page: v.page }, answerLost: v.answerLost, workerDied: v.workerDied }])),
    storeDuplicates: stats.duplicates,
    relay: ingress ? { receiptQueries: ingress.queries, ...pickRelayStats(ingress.stats()) } : undefined,
    requests: stats.requests,
    byStatus: stats.byStatus,
    actions,
    incidents,
    faults,
    tabs: rows,
    problems,
  };
  log(formatTable(result));
  await within(20_000, context.close(), 'context close').catch(() => undefined);
  await within(20_000, browser.close(), 'browser close').catch(() => undefined);
  await collector.close();
  return result;
}

/** Where the soak mounts the relay on the collector's server (the tabs' `relay` option). */
const RELAY_PREFIX = '/lf';

/** The relay counters the closing table prints. */
function pickRelayStats(s) {
  return { received: s.received, forwarded: s.forwarded, duplicates: s.duplicates, receipts: s.receipts };
}

const pct = (n, of) => `${of === 0 ? 0 : ((100 * n) / of).toFixed(2)} %`;

/** The closing table. */
export function formatTable(r) {
  const lines = [
    `[soak] seed ${r.seed}, ${r.seconds} s: ${r.ok ? 'OK' : 'FAILED'}`,
    `  records   tracked ${r.tracked}, delivered (unique ids) ${r.delivered}, missing ${r.missing}` +
      `, lost uncommitted at a crash ${r.lostUncommitted} (of ${r.uncommittedAtCrash} not committed or no longer held then)`,
    `  duplicates ${r.duplicates} arrivals beyond the first (${pct(r.duplicates, r.tracked)} of records, limit ${pct(MAX_DUPLICATE_SHARE, 1)}) on ${r.duplicatedIds} ids; the store saw ${r.storeDuplicates}; the worker stopped ${r.workerStops} time(s)`,
    '  cause             duplicates  ids  sent via worker  via page  first answer lost  worker died after',
    ...Object.entries(r.duplicatesByCause).map(
      ([k, v]) =>
        `  ${k.padEnd(17)} ${String(v.duplicates).padStart(10)} ${String(v.ids).padStart(4)} ${String(v.sentBy.worker).padStart(16)} ${String(v.sentBy.page).padStart(9)} ${String(v.answerLost).padStart(18)} ${String(v.workerDied).padStart(18)}`,
    ),
    ...(r.relay ? [`  relay     ${r.relay.receiptQueries.asked} receipts queries (${r.relay.receiptQueries.ids} ids asked); its stats ${JSON.stringify(r.relay).replace(/"/g, '')}`] : []),
    `  requests  ${r.requests} (${Object.entries(r.byStatus).map(([k, v]) => `${k}:${v}`).join(' ')})`,
    `  actions   ${Object.entries(r.actions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  faults    ${Object.entries(r.faults).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '  tab      tracked recovered   sent handedOff queued inflight dropped balanced',
    ...r.tabs.map(
      (t) =>
        `  ${t.tab.padEnd(8)} ${String(t.tracked).padStart(7)} ${String(t.recovered).padStart(9)} ${String(t.sent).padStart(6)} ${String(t.handedOff).padStart(9)} ${String(t.queued).padStart(6)} ${String(t.inflight).padStart(8)} ${String(t.dropped).padStart(7)} ${t.balanced ? 'yes' : 'NO'}`,
    ),
    ...r.incidents.map((p) => `  browser incident (not counted against Outbox): ${p}`),
    ...r.problems.map((p) => `  problem: ${p}`),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const minutes = arg('minutes', 1);
  const sw = !process.argv.includes('--no-sw');
  const relay = !process.argv.includes('--direct');
  const result = await runSoak({ seconds: Math.round(minutes * 60), seed: arg('seed', 20261201), tabs: arg('tabs', 3), sw, relay });
  process.exit(result.ok ? 0 : 1);
}
