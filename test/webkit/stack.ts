/**
 * WebKit here: WebKitGTK's WebDriver (`WebKitWebDriver`, Debian's webkit2gtk-driver) driving its MiniBrowser under
 * Xvfb (docs/platform-facts.md §11). One driver process serves one session: each worker starts its own stack and
 * ends it by the PIDs it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { Builder, type WebDriver } from 'selenium-webdriver';

export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.WEBKIT_MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB = '/usr/bin/Xvfb';

/** Why WebKit cannot run here, or null when the driver, the browser and Xvfb are all installed. */
export function webkitMissing(): string | null {
  const missing = [WEBKIT_DRIVER, MINIBROWSER, XVFB].filter((p) => !existsSync(p));
  return missing.length ? `not installed: ${missing.join(', ')} (apt-get install --no-install-recommends webkit2gtk-driver xvfb xauth)` : null;
}

export interface WebKitStack {
  driver: WebDriver;
  /** Quits the session, then ends the driver and Xvfb (the processes this stack started, by PID). */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts a connection, or rejects when `child` exits or the deadline passes. */
async function waitForPort(port: number, child: ChildProcess, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts Xvfb (its own display, picked with -displayfd), then the driver on a free port, then one session. */
export async function startWebKit(): Promise<WebKitStack> {
  const started: ChildProcess[] = [];
  const stopProcesses = async () => {
    for (const child of started.reverse()) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && child.pid && process.kill(child.pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const xvfb = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    started.push(xvfb);
    const display = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error('Xvfb gave no display number within 10 s')), 10_000);
      (xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('\n')) (clearTimeout(timer), resolve(`:${seen.trim()}`));
      });
      xvfb.once('exit', (code) => (clearTimeout(timer), reject(new Error(`Xvfb exited with ${code}`))));
    });
    const port = await freePort();
    const driverProc = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], {
      stdio: 'ignore',
      env: { ...process.env, DISPLAY: display },
    });
    started.push(driverProc);
    await waitForPort(port, driverProc, 'WebKitWebDriver');
    const driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } })
      .build();
    await driver.manage().setTimeouts({ script: 60_000, pageLoad: 30_000 });
    return {
      driver,
      async stop() {
        await driver.quit().catch(() => undefined);
        await stopProcesses();
      },
    };
  } catch (err) {
    await stopProcesses();
    throw err;
  }
}
