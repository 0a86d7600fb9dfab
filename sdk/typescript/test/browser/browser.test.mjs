// The live scenario and the React hook in headless Chromium against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startProxy, ROOT_PASSWORD, waitFor, sleep } from '../server.mjs';
import { createClient, Auth } from '../../dist/index.js';
import { bundle, servePage, launch, CORS_CONFIG } from './harness.mjs';

let server;
let root;
let chrome;
before(async () => {
  server = await startServer({ config: CORS_CONFIG });
  root = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  await root.query('CREATE NAMESPACE app');
  chrome = await launch();
});
after(async () => {
  await chrome?.close();
  await root?.disconnect();
  await server?.stop();
});

async function tableRows(table) {
  const rows = await root.queryAll(`SELECT id, v, label FROM ${table} ORDER BY id LIMIT 1000`);
  return rows.map((r) => [String(r.id), r.v, r.label]);
}

test('browser: live rows stay exact through 100 cuts with concurrent writes (in-band auth, gzip frames)', async () => {
  await root.query("CREATE TABLE app.chaos (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  const seed = Array.from({ length: 40 }, (_, i) => `(${i}, 0, '${'seed'.repeat(40)}')`).join(', ');
  await root.query(`INSERT INTO app.chaos (id, v, label) VALUES ${seed}`);
  const proxy = await startProxy(server.port);
  const page = await servePage(await bundle('live_page.js'));
  const tab = await chrome.newPage();
  const logs = [];
  tab.on('console', (m) => logs.push(m.text()));
  tab.on('pageerror', (e) => logs.push(String(e)));
  await tab.goto(`${page.url}?url=${encodeURIComponent(proxy.url)}&password=${encodeURIComponent(ROOT_PASSWORD)}`);
  await waitFor(() => tab.evaluate(() => window.kalamTest?.ready === true), 15000, 'page ready').catch((e) => {
    throw new Error(`${e.message}: ${logs.join('\n')}`);
  });
  const info = () => tab.evaluate(() => window.kalamTest.info());
  await waitFor(async () => (await info()).rows.length === 40, 10000, 'initial rows');

  let writing = true;
  let ops = 0;
  const writer = async (w) => {
    while (writing) {
      const r = Math.random();
      const id = Math.floor(Math.random() * 200);
      if (r < 0.4) {
        const e = await root.query(`INSERT INTO app.chaos (id, v, label) VALUES (${id}, ${w}, '${'ins'.repeat(60)}')`).catch((x) => x);
        if (e instanceof Error && e.code !== 'SQL_EXECUTION_ERROR') throw e; // an existing id is a PK violation
      } else if (r < 0.8) await root.query(`UPDATE app.chaos SET v = v + 1, label = 'upd${ops}' WHERE id = ${id}`);
      else await root.query(`DELETE FROM app.chaos WHERE id = ${id}`);
      ops++;
    }
  };
  const writers = [writer(1), writer(2)];
  let cuts = 0;
  let seen = 0;
  while (cuts < 100) {
    await waitFor(async () => {
      const i = await info();
      return i.connects > seen && i.connected;
    }, 10000, 'reconnected');
    seen = (await info()).connects;
    await sleep(Math.random() * 40);
    if (proxy.cutAll() > 0) cuts++;
  }
  writing = false;
  await Promise.all(writers);
  const expect = await tableRows('app.chaos');
  const sorted = (rows) => [...rows].sort((a, b) => Number(BigInt(a[0]) - BigInt(b[0])));
  await waitFor(async () => JSON.stringify(sorted((await info()).rows)) === JSON.stringify(expect), 20000, 'browser rows == table').catch(() => {});
  const final = await info();
  assert.deepEqual(sorted(final.rows), expect);
  assert.equal(new Set(final.rows.map((r) => r[0])).size, final.rows.length, 'no row twice');
  assert.deepEqual(final.errors, []);
  assert.deepEqual(final.protocolErrors, []);
  assert.equal(final.node, false);
  assert.ok(final.gzipFrames > 0, 'gzip binary frames were received and inflated');
  assert.ok(final.connects >= 101, `${final.connects} connections`);
  console.log(`# browser chaos: ${cuts} cuts, ${final.connects} connections, ${ops} writes, ${final.gzipFrames} gzip frames, ${final.calls} onRows calls, ${expect.length} rows`);
  await tab.close();
  await page.close();
  await proxy.close();
});

test('browser: useLiveQuery under StrictMode subscribes once and follows changes', async () => {
  await root.query("CREATE TABLE app.react_items (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  await root.query("INSERT INTO app.react_items (id, v, label) VALUES (1, 1, 'one'), (2, 2, 'two')");
  const page = await servePage(await bundle('react_page.jsx'));
  const tab = await chrome.newPage();
  const logs = [];
  tab.on('pageerror', (e) => logs.push(String(e)));
  tab.on('console', (m) => logs.push(m.text()));
  await tab.goto(`${page.url}?url=${encodeURIComponent(server.url)}&password=${encodeURIComponent(ROOT_PASSWORD)}`);
  const items = () => tab.evaluate(() => [...document.querySelectorAll('#items li')].map((li) => li.textContent));
  await waitFor(async () => (await items()).length === 2, 15000, 'rows rendered').catch((e) => {
    throw new Error(`${e.message}: ${logs.join('\n')}`);
  });
  assert.deepEqual(await items(), ['1:one', '2:two']);
  await root.query("UPDATE app.react_items SET label = 'ONE' WHERE id = 1");
  await root.query("INSERT INTO app.react_items (id, v, label) VALUES (3, 3, 'three')");
  await root.query('DELETE FROM app.react_items WHERE id = 2');
  await waitFor(async () => JSON.stringify(await items()) === JSON.stringify(['1:ONE', '3:three']), 10000, 'changes rendered').catch(() => {});
  assert.deepEqual(await items(), ['1:ONE', '3:three']);
  await waitFor(async () => (await tab.evaluate(() => document.getElementById('bad').textContent)) === 'NOT_FOUND', 10000, 'error shown').catch(() => {});
  assert.equal(await tab.evaluate(() => document.getElementById('bad').textContent), 'NOT_FOUND');
  await sleep(300);
  const s = await tab.evaluate(() => ({ ...window.reactTest.stats, subs: window.reactTest.subscriptions() }));
  // StrictMode mounts each effect twice: two live() calls per hook, exactly one subscription left.
  assert.equal(s.liveCalls, 4, JSON.stringify(s));
  assert.equal(s.subs, 1, JSON.stringify(s));
  const live = await root.queryAll('SELECT live_id FROM system.live');
  assert.equal(live.length, 1);
  await tab.close();
  await page.close();
});
