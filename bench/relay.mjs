// Relay overhead on Node: the latency an Outbox relay (toNodeListener(createRelay(...)), dist/relay.js) adds in
// front of the collector, next to a plain 30-line node:http forwarding proxy (bench/proxy-server.mjs) in front of
// the same collector, and the collector reached directly. Same load for all three: `requests` OTLP/HTTP JSON
// requests of `records` spans each (fresh span ids, so neither dedup nor the store short-cuts), `concurrency` in
// flight, over keep-alive connections, 127.0.0.1 only. The collector and each forwarder run in child processes of
// their own (bench/proxy-server.mjs); this process only generates load. Runs interleave the three targets. Added
// latency = a target's p50 (p99) minus the direct p50 (p99) of the same run.
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { summarize } from './stats.mjs';

const BASIC = `Basic ${Buffer.from('pk-bench:sk-bench').toString('base64')}`;

function otlpBody(records, r) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const traceId = randomBytes(16).toString('hex');
  const spans = Array.from({ length: records }, (_, i) => ({
    traceId,
    spanId: randomBytes(8).toString('hex'),
    name: `bench-${r}-${i}`,
    kind: 1,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 1_000_000n),
    attributes: [
      { key: 'langfuse.observation.type', value: { stringValue: 'span' } },
      { key: 'langfuse.observation.input', value: { stringValue: JSON.stringify({ q: 'x'.repeat(80), i }) } },
    ],
    status: {},
  }));
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] }, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] });
}

function startChild(script, kind, upstream) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, kind, ...(upstream ? [upstream] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ port: JSON.parse(line).port, close: () => child.stdin.end() });
    });
    child.on('exit', (code) => reject(new Error(`${kind} forwarder exited with ${code}`)));
  });
}

/** `requests` POSTs with `concurrency` workers; returns per-request latencies (ms), wall ms and statuses. */
async function load({ port, headers, requests, records, concurrency, agent }) {
  const bodies = Array.from({ length: requests }, (_, r) => otlpBody(records, r));
  const latencies = [];
  const statuses = {};
  let next = 0;
  const one = (body) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/public/otel/v1/traces', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          resolve();
        });
      });
      req.on('error', () => {
        statuses.error = (statuses.error ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) await one(bodies[next++]);
  }));
  return { latencies, wallMs: performance.now() - t0, statuses };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** The collector child's control routes. */
function control(port) {
  const call = async (path, init) => {
    const res = await fetch(`http://127.0.0.1:${port}/control/${path}`, init);
    return res.status === 204 ? null : res.json();
  };
  return { reset: () => call('reset', { method: 'POST' }), stats: () => call('stats') };
}

export async function measureRelay({ benchDir, runs = 5, requests = Number(process.env.BENCH_RELAY_REQUESTS ?? 500), records = 20, concurrency = 16 } = {}) {
  const script = path.join(benchDir, 'proxy-server.mjs');
  const collector = await startChild(script, 'collector');
  const upstream = `http://127.0.0.1:${collector.port}`;
  const relay = await startChild(script, 'relay', upstream);
  const plain = await startChild(script, 'plain', upstream);
  const ctl = control(collector.port);
  const targets = {
    direct: { port: collector.port, headers: { authorization: BASIC } },
    plain: { port: plain.port, headers: { authorization: BASIC } },
    relay: { port: relay.port, headers: { authorization: 'Bearer pk-bench', origin: 'http://app.bench' } },
  };
  const per = { direct: [], plain: [], relay: [] };
  try {
    for (let r = 0; r <= runs; r++) {
      const order = ['direct', 'plain', 'relay'];
      for (let k = 0; k < r % 3; k++) order.push(order.shift());
      for (const name of order) {
        await ctl.reset();
        const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
        const n = r === 0 ? Math.min(200, requests) : requests; // warm-up: connections, JIT
        const res = await load({ ...targets[name], requests: n, records, concurrency, agent });
        agent.destroy();
        const stored = (await ctl.stats()).observationsStored;
        if (r === 0) continue;
        const sorted = [...res.latencies].sort((a, b) => a - b);
        per[name].push({ p50: percentile(sorted, 50), p99: percentile(sorted, 99), recordsPerS: (stored * 1000) / res.wallMs, stored, statuses: res.statuses });
      }
    }
  } finally {
    relay.close();
    plain.close();
    collector.close();
  }
  const out = { requests, records, concurrency };
  for (const name of Object.keys(per)) {
    out[name] = {
      p50Ms: summarize(per[name].map((x) => x.p50)),
      p99Ms: summarize(per[name].map((x) => x.p99)),
      recordsPerS: summarize(per[name].map((x) => x.recordsPerS)),
      stored: summarize(per[name].map((x) => x.stored)),
      statuses: per[name].map((x) => x.statuses),
    };
    if (name !== 'direct') {
      out[name].addedP50Ms = summarize(per[name].map((x, i) => x.p50 - per.direct[i].p50));
      out[name].addedP99Ms = summarize(per[name].map((x, i) => x.p99 - per.direct[i].p99));
    }
  }
  return out;
}
