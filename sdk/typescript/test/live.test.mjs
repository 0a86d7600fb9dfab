// live(), subscribe/subscribeWithSql, resume with `from`, KILL LIVE QUERY, SUBSCRIBER_LAGGING and
// 300 forced disconnects under concurrent writes, against the real kalamdb-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startProxy, ROOT_PASSWORD, waitFor, sleep } from './server.mjs';
import { createClient, Auth, KalamError, SeqId } from '../dist/index.js';

let server;
let root;
before(async () => {
  server = await startServer();
  root = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  await root.query('CREATE NAMESPACE app');
});
after(async () => {
  await root?.disconnect();
  await server?.stop();
});

const plain = (rows) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== '_seq')));

async function tableRows(table) {
  const rows = await root.queryAll(`SELECT id, v, label FROM ${table} ORDER BY id LIMIT 1000`);
  return new Map(rows.map((r) => [r.id, { v: r.v, label: r.label }]));
}
function mirrorMap(rows) {
  const m = new Map();
  for (const r of rows) {
    assert.ok(!m.has(r.id), `row ${r.id} twice in the live set`);
    m.set(r.id, { v: r.v, label: r.label });
  }
  return new Map([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

test('live() materializes inserts, updates (in place) and deletes', async () => {
  await root.query("CREATE TABLE app.items (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  await root.query("INSERT INTO app.items (id, v, label) VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')");
  const c = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  const calls = [];
  const stop = await c.live('SELECT id, v, label FROM app.items', (rows) => calls.push(plain(rows)), { subscriptionOptions: { batch_size: 2 } });
  await waitFor(() => calls.length === 1, 5000, 'initial rows');
  assert.deepEqual(calls[0], [{ id: 1n, v: 10, label: 'a' }, { id: 2n, v: 20, label: 'b' }, { id: 3n, v: 30, label: 'c' }]);
  await root.query("UPDATE app.items SET label = 'A' WHERE id = 1");
  await waitFor(() => calls.length === 2);
  assert.deepEqual(calls[1][0], { id: 1n, v: 10, label: 'A' }, 'an update keeps the row in place');
  await root.query('UPDATE app.items SET label = NULL, v = 11 WHERE id = 1');
  await waitFor(() => calls.length === 3);
  assert.deepEqual(calls[2][0], { id: 1n, v: 11, label: null });
  await root.query('DELETE FROM app.items WHERE id = 2');
  await root.query("INSERT INTO app.items (id, v, label) VALUES (4, 40, 'd')");
  await waitFor(() => calls.length === 5);
  assert.deepEqual(calls[4], [{ id: 1n, v: 11, label: null }, { id: 3n, v: 30, label: 'c' }, { id: 4n, v: 40, label: 'd' }]);

  const subs = c.getSubscriptions();
  assert.equal(subs.length, 1);
  assert.equal(subs[0].sql, 'SELECT id, v, label FROM app.items');
  const maxSeq = (await root.queryAll('SELECT _seq FROM app.items')).reduce((m, r) => (r._seq > m ? r._seq : m), 0n);
  assert.ok(subs[0].lastSeqId instanceof SeqId);
  assert.equal(subs[0].lastSeqId.toBigInt(), maxSeq);
  await stop();
  assert.equal(c.getSubscriptions().length, 0);
  await c.disconnect();
});

test('live() limit, last_rows and keyColumns', async () => {
  await root.query("CREATE TABLE app.feed (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  await root.query("INSERT INTO app.feed (id, v, label) VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c'), (4, 4, 'd')");
  const c = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  let last;
  const stop = await c.live('SELECT id, v FROM app.feed', (rows) => (last = plain(rows)), { limit: 3, subscriptionOptions: { last_rows: 2 }, keyColumns: ['id'] });
  await waitFor(() => last !== undefined);
  assert.deepEqual(last, [{ id: 3n, v: 3 }, { id: 4n, v: 4 }]);
  await root.query('INSERT INTO app.feed (id, v) VALUES (5, 5)');
  await waitFor(() => last.length === 3);
  await root.query('INSERT INTO app.feed (id, v) VALUES (6, 6)');
  await waitFor(() => last[2].id === 6n);
  assert.deepEqual(last, [{ id: 4n, v: 4 }, { id: 5n, v: 5 }, { id: 6n, v: 6 }]);
  await stop();
  await c.disconnect();
});

test('subscribeWithSql: raw events, `from` resume with an exact 64-bit SeqId, changes-only', async () => {
  await root.query("CREATE TABLE app.raw (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  await root.query("INSERT INTO app.raw (id, v) VALUES (1, 1), (2, 2), (3, 3)");
  const seqs = await root.queryAll('SELECT id, _seq FROM app.raw ORDER BY id');
  const from = SeqId.from(seqs[0]._seq.toString()); // after row 1
  assert.ok(from.toBigInt() > 2n ** 53n);
  const c = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  const events = [];
  const unsub = await c.subscribeWithSql('SELECT id, v FROM app.raw', (e) => events.push(e), { from });
  await waitFor(() => events.some((e) => e.type === 'initial_data_batch' && !e.batch_control.has_more));
  assert.equal(events[0].type, 'subscription_ack');
  assert.deepEqual(events[0].schema.map((f) => f.name), ['id', 'v', '_seq']);
  const batchRows = events.filter((e) => e.type === 'initial_data_batch').flatMap((e) => e.rows);
  assert.deepEqual(batchRows, [{ id: 2n, v: 2, _seq: seqs[1]._seq }, { id: 3n, v: 3, _seq: seqs[2]._seq }]);
  await root.query('UPDATE app.raw SET v = 30 WHERE id = 3');
  await root.query('DELETE FROM app.raw WHERE id = 2');
  await waitFor(() => events.filter((e) => e.type === 'change').length === 2);
  const changes = events.filter((e) => e.type === 'change');
  assert.deepEqual(changes.map((e) => e.change_type), ['update', 'delete']);
  assert.deepEqual(plain(changes[0].rows), [{ id: 3n, v: 30 }]);
  assert.deepEqual(plain(changes[0].old_values), [{ id: 3n, v: 3 }]);
  assert.equal(changes[1].old_values[0].id, 2n);
  assert.equal(c.getSubscriptions()[0].lastSeqId.toBigInt(), changes[1].old_values[0]._seq);

  const only = [];
  const unsub2 = await c.subscribeWithSql('SELECT id, v FROM app.raw', (e) => only.push(e), { initialData: false });
  await root.query('INSERT INTO app.raw (id, v) VALUES (9, 9)');
  await waitFor(() => only.length === 2);
  assert.deepEqual(only.map((e) => e.type), ['subscription_ack', 'change']);
  assert.deepEqual(plain(only[1].rows), [{ id: 9n, v: 9 }]);
  await unsub();
  await unsub2();

  const tableEvents = [];
  const unsub3 = await c.subscribe('app.raw', (e) => tableEvents.push(e));
  await waitFor(() => tableEvents.length === 2);
  assert.deepEqual(tableEvents[1].rows.map((r) => r.id), [1n, 3n, 9n]);
  await unsub3();
  await c.disconnect();
});

test('a refused subscription rejects with the server error', async () => {
  const c = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  const e = await c.subscribeWithSql('SELECT * FROM app.nope', () => {}).catch((x) => x);
  assert.ok(e instanceof KalamError);
  assert.equal(e.code, 'NOT_FOUND');
  assert.equal(c.getSubscriptions().length, 0);
  await c.disconnect();
});

test('Node: in-band auth with text frames, and a refused token', async () => {
  await root.query("CREATE TABLE app.inband (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  await root.query("INSERT INTO app.inband (id, v, label) VALUES (1, 1, 'a')");
  const c = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD), wsAuth: 'in-band', compression: false });
  let rows;
  const stop = await c.live('SELECT id, v, label FROM app.inband', (r) => (rows = plain(r)));
  await root.query("INSERT INTO app.inband (id, v, label) VALUES (2, 2, '" + 'z'.repeat(2000) + "')");
  await waitFor(() => rows?.length === 2);
  assert.deepEqual(rows[0], { id: 1n, v: 1, label: 'a' });
  assert.equal(rows[1].label.length, 2000);
  assert.equal(c.connection.gzipFrames, 0, 'compression: false means text frames only');
  await stop();
  await c.disconnect();

  for (const wsAuth of ['header', 'in-band']) {
    const bad = createClient({ url: server.url, authProvider: Auth.jwt('bad.token.here'), wsAuth });
    const e = await bad.subscribeWithSql('SELECT * FROM app.inband', () => {}).catch((x) => x);
    assert.ok(e instanceof KalamError, String(e));
    assert.deepEqual([e.code, e.status], ['AUTH_ERROR', 401], `${wsAuth}: ${e.message}`);
    await bad.disconnect();
  }
});

test('KILL LIVE QUERY: the subscription resumes and the rows stay exact', async () => {
  await root.query("CREATE TABLE app.kill (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  await root.query("INSERT INTO app.kill (id, v) VALUES (1, 1), (2, 2)");
  const c = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  let rows;
  const stop = await c.live('SELECT id, v, label FROM app.kill', (r) => (rows = r));
  await waitFor(() => rows?.length === 2);
  for (let i = 0; i < 5; i++) {
    const live = await root.queryAll("SELECT live_id FROM system.live");
    assert.ok(live.length >= 1);
    for (const l of live) await root.query(`KILL LIVE QUERY '${l.live_id}'`).catch(() => {}); // may be gone already
    await root.query(`INSERT INTO app.kill (id, v) VALUES (${10 + i}, ${i})`);
    await root.query(`UPDATE app.kill SET v = ${100 + i} WHERE id = 1`);
    if (i === 2) await root.query('DELETE FROM app.kill WHERE id = 2');
  }
  const expect = await tableRows('app.kill');
  await waitFor(() => JSON.stringify([...mirrorMap(rows)]) === JSON.stringify([...expect], (k, v) => v), 10000, 'mirror == table').catch(() => {});
  assert.deepEqual(mirrorMap(rows), expect);
  assert.equal(c.connection.connects, 1, 'killed subscriptions resume on the same connection');
  assert.equal(c.connection.serverCloses.SUBSCRIPTION_FAILED, 5);
  await stop();
  await c.disconnect();
});

test('SUBSCRIBER_LAGGING: a stalled reader is resumed with nothing lost', async () => {
  // A server whose per-connection outbound queue holds 4 messages.
  const lagServer = await startServer({
    config: '[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\nmax_messages_per_sec = 100000\n[websocket]\noutbound_queue_messages = 4\n',
  });
  const outerRoot = root;
  root = createClient({ url: lagServer.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  try {
    await lagging(lagServer);
  } finally {
    root = outerRoot;
    await lagServer.stop();
  }
});

async function lagging(server) {
  await root.query('CREATE NAMESPACE app');
  await root.query("CREATE TABLE app.lag (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  const proxy = await startProxy(server.port);
  const c = createClient({ url: proxy.url, authProvider: Auth.basic('root', ROOT_PASSWORD), idleTimeoutMs: 60000 });
  await c.login();
  let rows = [];
  const errors = [];
  const raw = [];
  const stop = await c.live('SELECT id, v, label FROM app.lag', (r) => (rows = r), { onError: (e) => errors.push(e) });
  const unsubRaw = await c.subscribeWithSql('SELECT id FROM app.lag', (e) => raw.push(e));
  proxy.pause(); // the server's socket buffer fills, then its queue of 4 messages overflows
  const pad = 'x'.repeat(4000);
  for (let i = 0; i < 40; i++) {
    // Ten statements, ten commits, ten change events of ~4 KB each.
    await root.batch(Array.from({ length: 10 }, (_, k) => `INSERT INTO app.lag (id, v, label) VALUES (${i * 10 + k}, ${k}, '${pad}${i}-${k}')`));
  }
  await root.query('UPDATE app.lag SET v = 999 WHERE id = 7');
  await root.query('DELETE FROM app.lag WHERE id = 8');
  await sleep(300);
  proxy.resume();
  const expect = await tableRows('app.lag');
  await waitFor(() => rows.length === expect.size && mirrorMap(rows).get(7n)?.v === 999, 20000, 'mirror caught up');
  assert.deepEqual(mirrorMap(rows), expect);
  assert.deepEqual(errors, []);
  assert.deepEqual(c.connection.protocolErrors, []);
  assert.ok(c.connection.serverCloses.SUBSCRIBER_LAGGING >= 1, JSON.stringify(c.connection.serverCloses));
  await unsubRaw();
  await stop();
  await c.disconnect();
  await proxy.close();
}

test('300 forced disconnects with concurrent inserts/updates/deletes: the live rows equal the table', async () => {
  await root.query("CREATE TABLE app.chaos (id BIGINT PRIMARY KEY, v INT, label TEXT) WITH (TYPE = 'SHARED')");
  const values = Array.from({ length: 50 }, (_, i) => `(${i}, 0, '${'seed'.repeat(40)}')`).join(', ');
  await root.query(`INSERT INTO app.chaos (id, v, label) VALUES ${values}`);
  const proxy = await startProxy(server.port);
  const c = createClient({
    url: proxy.url,
    authProvider: Auth.basic('root', ROOT_PASSWORD),
    reconnectMinDelayMs: 5,
    reconnectMaxDelayMs: 40,
  });
  await c.login(); // over the proxy before the cuts start
  let rows = [];
  let calls = 0;
  const errors = [];
  const stop = await c.live('SELECT id, v, label FROM app.chaos', (r) => {
    rows = r;
    calls++;
  }, { subscriptionOptions: { batch_size: 16 }, onError: (e) => errors.push(e) });
  const seqs = [];
  let catchUps = 0;
  const unsubRaw = await c.subscribeWithSql('SELECT id, v FROM app.chaos', (e) => {
    if (e.catch_up && (e.type === 'change' || e.rows.length > 0)) catchUps++;
    if (e.type === 'change') seqs.push(e.change_type === 'delete' ? e.old_values[0]._seq : e.rows[0]._seq);
    if (e.type === 'initial_data_batch') for (const r of e.rows) seqs.push(r._seq);
  }, { batch_size: 16 });
  await waitFor(() => rows.length === 50);

  let writing = true;
  let ops = 0;
  const writer = async (w) => {
    while (writing) {
      const r = Math.random();
      const id = Math.floor(Math.random() * 300);
      if (r < 0.4) {
        const e = await root.query(`INSERT INTO app.chaos (id, v, label) VALUES (${id}, ${w}, '${'ins'.repeat(60)}')`).catch((x) => x);
        if (e instanceof Error && e.code !== 'SQL_EXECUTION_ERROR') throw e; // an existing id is a PK violation
      }
      else if (r < 0.8) await root.query(`UPDATE app.chaos SET v = v + 1, label = '${'upd' + ops}' WHERE id = ${id}`);
      else await root.query(`DELETE FROM app.chaos WHERE id = ${id}`);
      ops++;
    }
  };
  const writers = [writer(1), writer(2), writer(3)];
  let cuts = 0;
  let seen = 0;
  while (cuts < 300) {
    await waitFor(() => c.connection.connects > seen && c.isConnected(), 10000, 'reconnected');
    seen = c.connection.connects;
    await sleep(Math.random() * 40); // lands anywhere: mid catch-up, mid batch, between changes
    if (proxy.cutAll() > 0) cuts++;
  }
  writing = false;
  await Promise.all(writers);
  // The last cut's reconnect (and resume) can still be under way: the mirror is compared after it.
  await waitFor(() => c.connection.connects > seen && c.isConnected(), 10000, 'the reconnect after the last cut');
  const expect = await tableRows('app.chaos');
  await waitFor(() => {
    const m = mirrorMap(rows);
    return m.size === expect.size && [...expect].every(([k, v]) => m.get(k)?.v === v.v && m.get(k)?.label === v.label);
  }, 20000, 'mirror == table').catch(() => {});
  assert.deepEqual(mirrorMap(rows), expect);
  assert.deepEqual(errors, []);
  assert.ok(ops > 300, `only ${ops} writes`);
  assert.ok(c.connection.connects >= 301, `${c.connection.connects} connections`);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'raw events strictly increasing in _seq (nothing twice)');
  const maxSeq = (await root.queryAll('SELECT _seq FROM app.chaos')).reduce((m, r) => (r._seq > m ? r._seq : m), 0n);
  const info = c.getSubscriptions().find((s) => s.sql === 'SELECT id, v, label FROM app.chaos');
  assert.ok(info.lastSeqId.toBigInt() >= maxSeq);
  assert.deepEqual(c.connection.protocolErrors, []);
  assert.ok(catchUps > 0, 'resumes delivered catch-up rows and deletes');
  console.log(`# chaos: ${catchUps} catch-up events, ${cuts} cuts, ${c.connection.connects} connections, ${ops} writes, ${calls} onRows calls, ${expect.size} rows, server closes ${JSON.stringify(c.connection.serverCloses)}`);
  await unsubRaw();
  await stop();
  await c.disconnect();
  await proxy.close();
});
