// Bundles a test page with esbuild, serves it, and opens it in the system's headless Chromium
// through playwright-core (never a downloaded browser).
import { build } from 'esbuild';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function bundle(entry) {
  const r = await build({
    entryPoints: [path.join(HERE, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    jsx: 'automatic',
    // Development React: StrictMode double-invokes effects only there.
    define: { 'process.env.NODE_ENV': '"development"' },
    alias: { '@kalamdb/client': path.join(HERE, '../../dist/index.js') },
    logLevel: 'error',
  });
  return r.outputFiles[0].text;
}

/** Serves one page (index.html + app.js) on a free port. */
export async function servePage(js) {
  const html = '<!doctype html><html><body><div id="root"></div><script type="module" src="/app.js"></script></body></html>';
  const srv = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      return res.end(js);
    }
    if (p === '/' || p === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return res.end(html);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}/`, close: () => new Promise((r) => {
      srv.close(r);
      srv.closeAllConnections(); // the browser keeps its keep-alive connection open
    }) };
}

export async function launch() {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'kalam-chromium-'));
  // A fresh profile directory (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export const CORS_CONFIG =
  '[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\nmax_messages_per_sec = 100000\n[security]\ncors_allowed_origins = ["*"]\n';
