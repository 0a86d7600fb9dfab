// Starts the real kalamdb-server for a test file: free port, temporary data dir, root password
// from the environment, like tests/e2e/kalam_harness.py.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT_PASSWORD = 'root-test-password';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function serverBinary() {
  if (process.env.KALAMDB_SERVER_BIN) return process.env.KALAMDB_SERVER_BIN;
  const p = path.join(REPO, 'build/release/src/server/kalamdb-server');
  if (existsSync(p)) return p;
  throw new Error('kalamdb-server not built; run scripts/build.sh release or set KALAMDB_SERVER_BIN');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const DEFAULT_CONFIG = '[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\nmax_messages_per_sec = 100000\n';

export async function startServer({ config = DEFAULT_CONFIG, env = {} } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kalam-sdk-'));
  const port = await freePort();
  const cfg = path.join(dir, 'server.toml');
  writeFileSync(cfg, config);
  const log = path.join(dir, 'server.log');
  const { openSync } = await import('node:fs');
  const fd = openSync(log, 'a');
  const proc = spawn(serverBinary(), [cfg], {
    env: {
      ...process.env,
      KALAMDB_SERVER_PORT: String(port),
      KALAMDB_SERVER_HOST: '127.0.0.1',
      KALAMDB_DATA_DIR: path.join(dir, 'data'),
      KALAMDB_ROOT_PASSWORD: ROOT_PASSWORD,
      KALAMDB_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', fd, fd],
    cwd: dir,
  });
  let exited = false;
  proc.on('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (exited) throw new Error('server exited: ' + readFileSync(log, 'utf8').slice(-2000));
    try {
      const r = await fetch(url + '/health');
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not start: ' + readFileSync(log, 'utf8').slice(-2000));
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    dir,
    log: () => readFileSync(log, 'utf8').slice(-4000),
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.on('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP proxy in front of the server whose connections a test can cut at any byte. */
export async function startProxy(targetPort) {
  const conns = new Set();
  let paused = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    conns.add(pair);
    const drop = () => {
      conns.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
    if (paused) upstream.pause();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    /** Cuts every open connection abruptly (no close frame); returns how many. */
    cutAll() {
      const n = conns.size;
      for (const p of [...conns]) {
        p.client.resetAndDestroy?.() ?? p.client.destroy();
        p.upstream.destroy();
      }
      conns.clear();
      return n;
    },
    /** Stops forwarding server → client bytes (a stalled reader). */
    pause() {
      paused = true;
      for (const p of conns) p.upstream.pause();
    },
    resume() {
      paused = false;
      for (const p of conns) p.upstream.resume();
    },
    get open() {
      return conns.size;
    },
    close: () => new Promise((r) => { for (const p of conns) { p.client.destroy(); p.upstream.destroy(); } server.close(r); }),
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(pred, timeoutMs = 10000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}
