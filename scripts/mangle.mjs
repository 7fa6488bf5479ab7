// Property names the minified bundles shorten (esbuild `mangleProps`). Only names internal to one bundle belong
// here: fields of the core's state, the scheduler, the flush waiters, the batch list, the hook doors, the
// tracer's state and the IndexedDB store's state (not the records it writes: those keep their names). Never a
// public API name, option key, stats or DropInfo field, OTLP/JSON key, wire field, or
// anything written to IndexedDB or posted between tabs and the service worker — those cross a bundle's edge,
// where a shortened name would not be understood. A name here must not be used quoted (`x['name']`) in src/,
// nor by zod, idb-keyval or workbox (esbuild renames it in their code too).
// Saved ~0.25 KB min+gzip on the global and on the Workers bundle when introduced.
export const MANGLE_PROPS = new RegExp(
  '^(' +
    [
      // core/state.ts (Core)
      'flushTarget', 'ignoreGate', 'inflightWork', 'scheduler', 'waiters', 'parked', 'onQueued',
      // core/scheduler.ts
      'gatedFor', 'closeGateUntil', 'openGate', 'armInterval', 'endOfTask', 'onEndOfTask', 'onGateOpen', 'intervalMs', 'onInterval',
      // core/batches.ts, core/queue.ts, core/waiters.ts, core/report.ts
      'minSeq', 'sealPending', 'releaseAll', 'flushDrops', 'warnOnce',
      // core/hooks.ts (the doors into the client)
      'enqueueRecovered', 'takeQueued', 'takeFront', 'queuedCount', 'inflightIds', 'putBack', 'dropInput', 'kick',
      // core/client.ts (Platform), create.ts (EntrySetup)
      'onShutdown', 'otlpAuthHint', 'extraShape',
      // wire/types.ts (Wire: built and used inside one bundle)
      'envelopeBytes', 'encodeRecord', 'encodeBatch',
      // trace/observation.ts (TraceState, ObservationState)
      'rootEnded', 'hasRoot', 'attrs',
      // trace/types.ts (Tracing: what the entries call besides startObservation)
      'endOpen', 'openCount',
      // trace/tracer-state.ts (TracerState)
      'tracingDeps', 'idSource', 'attrLimit', 'spanLimit', 'openLimit', 'spanDefaults', 'traceById', 'openSet',
      // storage/idb-state.ts (IdbState), storage/idb-recover.ts (Pass)
      'ownerId', 'dbId', 'storeId', 'nowFn', 'graceFor', 'staleAfter', 'beatEvery', 'removeAfter', 'opTimeout',
      'parkFor', 'txDurability', 'liveCheck', 'whenReady', 'fault', 'heartbeats', 'mine', 'keyOf', 'dirty',
      'uncommitted', 'failedKeys', 'streak', 'faultCount', 'serial', 'txCount', 'heartbeatTimer', 'nextAt',
      'aliveSeen', 'parkOp', 'dbp', 'connection', 'blockedReported', 'pendingJob', 'writing', 'microtask',
      'writeTimer', 'aliveWithSegments', 'unreadableCount', 'firstUnreadable',
    ].join('|') +
    ')$',
);
