// The package as users meet it: `npm pack` (into test-results/package/), then the ecosystem's own checks on that
// tarball: @arethetypeswrong/cli (types resolve for every entry under node16 and bundler; esm-only profile: the
// package has no CommonJS build) and publint (package.json fields against the packed files), then knip (unused
// files, dependencies and exports in the repository). Exit status 1 if any of them reports a problem.
// Prints the tarball's path last, so other steps can reuse it: `node scripts/check-package.mjs --pack-only`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

/** Packs the built package (dist/ must be built) into `dir`; returns the tarball's absolute path. */
export function pack(dir = path.join(root, 'test-results', 'package')) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // --ignore-scripts: dist/ is built by the caller; nothing else should run at pack time.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  const [{ filename }] = JSON.parse(out);
  return path.join(dir, filename);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tarball = pack();
  console.log(`packed ${path.relative(root, tarball)}`);
  if (process.argv.includes('--pack-only')) process.exit(0);
  const checks = [
    ['attw', bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped']],
    ['publint', bin('publint'), ['--strict', tarball]],
    ['knip', bin('knip'), ['--no-progress']],
  ];
  let failed = 0;
  for (const [label, cmd, args] of checks) {
    console.log(`\n-- ${label}`);
    const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      failed++;
      console.log(`${label}: FAILED (exit ${r.status})`);
    }
  }
  process.exit(failed === 0 ? 0 : 1);
}
