// Import rules for src/ (issue 20, DESIGN §6): no cycles, and every import goes down the layers, bottom to top:
//   0 core/                      record shapes, plug-in interfaces, the ledger, the report, options, retry, outcome
//   1 wire/, storage/
//   2 trace/, transport/
//   3 sync/, platform/, relay/
//   4 create.ts                  assembly
//   5 the entries (src/*.ts), otel/, integrations/  (otel/ builds its client with create.ts's assemble: downward)
// A module may import its own layer's folder and any layer below, never above. `npm test` runs this
// (`depcruise src`); `npx depcruise src --output-type err-long` explains a failure.
const layers = [
  ['core'],
  ['wire', 'storage'],
  ['trace', 'transport'],
  ['sync', 'platform', 'relay'],
];
const folder = (names) => `^src/(${names.join('|')})/`;
const above = (i) => layers.slice(i + 1).flat();
const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'An import cycle: two modules that need each other are one job, or share a third module below both.',
    from: { path: '^src/' },
    to: { circular: true },
  },
  // Each layer: nothing above it, and not the assembly, the entries, otel/ or integrations/.
  ...layers.map((names, i) => ({
    name: `layer-${names.join('-')}`,
    severity: 'error',
    comment: `${names.join('/, ')}/ may import only its own layer and those below it.`,
    from: { path: folder(names) },
    to: { path: [...(above(i).length ? [folder(above(i))] : []), '^src/[^/]+\\.ts$', '^src/(otel|integrations)/'] },
  })),
  // Folders of one layer are independent of each other (wire/ and storage/; trace/ and transport/; sync/,
  // platform/ and relay/): what two of them share lives a layer below.
  ...layers
    .filter((names) => names.length > 1)
    .flatMap((names) =>
      names.map((name) => ({
        name: `siblings-${name}`,
        severity: 'error',
        comment: `${name}/ does not import the other folders of its layer (${names.join('/, ')}/).`,
        from: { path: folder([name]) },
        to: { path: folder(names.filter((n) => n !== name)) },
      })),
    ),
  {
    name: 'assembly-below-entries',
    severity: 'error',
    comment: 'create.ts (the assembly) imports no entry, otel/ or integrations/.',
    from: { path: '^src/create\\.ts$' },
    to: { path: ['^src/(otel|integrations)/', '^src/(?!create\\.ts$)[^/]+\\.ts$'] },
  },
];
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/.*\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
