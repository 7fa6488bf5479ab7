// Finds a Chromium for the browser tests: CHROMIUM_PATH, Debian's /usr/bin/chromium, or Playwright's own build.
// As root on Debian with none of those, installs Debian's chromium with apt-get; otherwise says how to get one.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const DEBIAN = '/usr/bin/chromium';

async function playwrightOwn() {
  try {
    const { chromium } = await import('@playwright/test');
    const p = chromium.executablePath();
    return p && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Returns the path of a usable Chromium, installing Debian's package when allowed; throws with instructions otherwise. */
export async function findChromium({ install = true } = {}) {
  if (process.env.CHROMIUM_PATH) {
    if (existsSync(process.env.CHROMIUM_PATH)) return process.env.CHROMIUM_PATH;
    throw new Error(`CHROMIUM_PATH is set to ${process.env.CHROMIUM_PATH}, which does not exist`);
  }
  if (existsSync(DEBIAN)) return DEBIAN;
  const own = await playwrightOwn();
  if (own) return own;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (install && isRoot && existsSync('/usr/bin/apt-get')) {
    console.log('No Chromium found: installing Debian\'s chromium (apt-get install -y chromium)...');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (existsSync(DEBIAN)) return DEBIAN;
  }
  throw new Error(
    'The browser tests need Chromium and none was found. Install one and run again:\n' +
      '  Debian/Ubuntu:  sudo apt-get install -y chromium        (then it is found at /usr/bin/chromium)\n' +
      '  elsewhere:      npx playwright install chromium          (Playwright\'s own build)\n' +
      '  or point at any Chromium/Chrome:  CHROMIUM_PATH=/path/to/chrome npm test',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  findChromium().then((p) => console.log(p), (e) => { console.error(e.message); process.exit(1); });
}

/**
 * Flags for Debian's Chromium on these machines: no sandbox as root, no GPU, and nothing that reaches for the
 * (closed) network at start. Shared by playwright.config.ts and the benchmark.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
