// What the browser tests share: the demo binary on a free port with a
// temporary database, headless Chromium, and the watch for
// Content-Security-Policy violations and console errors.
//
// The demo binary: DEMO_APP_BIN, or the newer of target/release/demo-app
// and target/debug/demo-app (under CARGO_TARGET_DIR when set). Chromium:
// CHROMIUM_BIN or /usr/bin/chromium. Screenshots go to target/browser/.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(root, process.env.CARGO_TARGET_DIR)
  : path.join(root, 'target');
/** Where screenshots go. */
export const artifacts = path.join(targetDir, 'browser');

export function demoBinary() {
  if (process.env.DEMO_APP_BIN) return process.env.DEMO_APP_BIN;
  const candidates = ['release', 'debug'].map((p) => path.join(targetDir, p, 'demo-app'));
  // The most recently built one.
  const found = candidates
    .filter((c) => fs.existsSync(c))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (!found) {
    throw new Error(`no demo binary in ${candidates.join(' or ')}: run cargo build -p demo-app`);
  }
  return found;
}

/** A TCP port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(base, server, deadline) {
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the demo exited with ${server.exitCode}`);
    try {
      const response = await fetch(`${base}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the demo did not answer /health in time');
}

/**
 * Starts the demo on 127.0.0.1 and a free port, with a fresh database in a
 * new temporary directory and a random secret; `env` adds or overrides
 * variables (e.g. ROCKET_AUTH_ACCESS_TTL). Resolves once /health answers.
 *
 * Returns `{ port, base, tmp, log(), stop() }`: `base` is
 * http://127.0.0.1:port, `log()` what the demo printed so far, `stop()`
 * ends it and removes the directory (printing the log first if the test
 * process is failing).
 */
export async function startDemo(env = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const server = spawn(demoBinary(), [], {
    env: {
      ...process.env,
      ROCKET_ADDRESS: '127.0.0.1',
      ROCKET_PORT: String(port),
      ROCKET_DATABASE_URL: `sqlite://${path.join(tmp, 'demo.db')}`,
      ROCKET_AUTH_SECRET: randomBytes(32).toString('hex'),
      ROCKET_CLI_COLORS: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => { log += d; });
  server.stderr.on('data', (d) => { log += d; });
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
    if (process.exitCode) console.error(log);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await waitForHealth(base, server, Date.now() + 60_000);
  } catch (error) {
    process.exitCode = 1;
    await stop();
    throw error;
  }
  return { port, base, tmp, log: () => log, stop };
}

/** Headless Chromium with a fresh profile in `profileDir`; resolves to the
 * context and its first page. */
export async function launchBrowser(profileDir, viewport = { width: 1100, height: 900 }) {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/**
 * Collects what `page` reports: Content-Security-Policy violations (from
 * the `securitypolicyviolation` event) and console errors (Chromium logs
 * every refused load, inline script and failed request there too). Call
 * before the first navigation. Returns `{ cspViolations, consoleErrors }`,
 * two arrays filled as the page runs.
 */
export async function watchPage(page) {
  const cspViolations = [];
  const consoleErrors = [];
  await page.exposeBinding('__reportCspViolation', (_source, violation) => {
    cspViolations.push(violation);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__reportCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  return { cspViolations, consoleErrors };
}
