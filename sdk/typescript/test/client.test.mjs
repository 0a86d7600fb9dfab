// @kalamdb/client against the real kalamdb-server: typed results, errors, auth and tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ROOT_PASSWORD } from './server.mjs';
import { createClient, Auth, KalamError, KalamTimestamp, KalamDate, SeqId, parseJson, stringifyJson } from '../dist/index.js';

let server;
let root;
before(async () => {
  server = await startServer();
  root = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  await root.query('CREATE NAMESPACE app');
  await root.query("CREATE TABLE app.vals (id BIGINT PRIMARY KEY, ts TIMESTAMP, d DATE, price DECIMAL(10,2), j JSON, b BYTES, n INT, f DOUBLE) WITH (TYPE = 'SHARED')");
  await root.query("CREATE USER alice WITH PASSWORD 'alice-password' ROLE user");
});
after(async () => {
  await root?.disconnect();
  await server?.stop();
});

const BIG = 9223372036854775807n; // 2^63 - 1
const ABOVE_2_53 = 9007199254740993n; // 2^53 + 1: a JS number would round it

test('json helpers keep 64-bit integers exact', () => {
  const v = parseJson('{"a":9223372036854775807,"b":12,"c":"9007199254740993","d":1.5e300,"e":"x\\"9223372036854775807"}');
  assert.deepEqual(v, { a: '9223372036854775807', b: 12, c: '9007199254740993', d: 1.5e300, e: 'x"9223372036854775807' });
  assert.equal(stringifyJson({ from: BIG, s: 'q"', n: null, u: undefined }), '{"from":9223372036854775807,"s":"q\\"","n":null}');
  assert.equal(SeqId.from('18446744073709551615').toString(), '18446744073709551615');
  assert.throws(() => SeqId.from(2 ** 60), RangeError);
});

test('query returns typed values: BIGINT exact above 2^53, TIMESTAMP/DATE, DECIMAL, JSON', async () => {
  await root.query(
    'INSERT INTO app.vals (id, ts, d, price, j, b, n, f) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [ABOVE_2_53, '2026-05-01T10:00:00.123456Z', '2026-05-01', '200.75', '{"a":[1,2]}', 'hi', 7, 0.5],
  );
  await root.query('INSERT INTO app.vals (id, price) VALUES ($1, $2)', [BIG, 12345678.9]);
  const r = await root.query('SELECT id, ts, d, price, j, b, n, f, _seq FROM app.vals WHERE id = $1', [ABOVE_2_53]);
  assert.equal(r.status, 'success');
  const [res] = r.results;
  assert.deepEqual(res.schema.map((f) => f.name), ['id', 'ts', 'd', 'price', 'j', 'b', 'n', 'f', '_seq']);
  assert.equal(res.row_count, 1);
  assert.equal(res.as_user, 'root');
  const [id, ts, d, price, j, b, n, f, seq] = res.rows[0];
  assert.equal(id, ABOVE_2_53);
  assert.ok(ts instanceof KalamTimestamp);
  assert.equal(ts.micros, 1777629600123456n);
  assert.equal(ts.toDate().toISOString(), '2026-05-01T10:00:00.123Z');
  assert.ok(d instanceof KalamDate);
  assert.equal(d.toString(), '2026-05-01');
  assert.equal(d.toDate().getTime(), Date.UTC(2026, 4, 1));
  assert.equal(price, '200.75');
  assert.equal(j, '{"a":[1,2]}');
  assert.deepEqual([...b], [104, 105]);
  assert.equal(n, 7);
  assert.equal(f, 0.5);
  assert.equal(typeof seq, 'bigint');
  assert.ok(seq > 2n ** 53n, 'a real _seq is above 2^53');

  const big = await root.queryOne('SELECT id, price FROM app.vals WHERE id = $1', [BIG]);
  assert.deepEqual(big, { id: BIG, price: '12345678.90' });
  const parsed = await root.queryOne('SELECT j FROM app.vals WHERE id = $1', [ABOVE_2_53], { parseJson: true });
  assert.deepEqual(parsed, { j: { a: [1, 2] } });
  // A round trip through a filter on the exact value, and a computed BIGINT.
  const cnt = await root.query("SELECT COUNT(*) AS c FROM app.vals WHERE id > 9007199254740992");
  assert.equal(cnt.results[0].rows[0][0], 2n);
});

test('batches: several statements, DML results summed in order', async () => {
  await root.query("CREATE TABLE app.b (id BIGINT PRIMARY KEY, v TEXT) WITH (TYPE = 'SHARED')");
  const r = await root.batch([
    "INSERT INTO app.b (id, v) VALUES (1, 'a'), (2, 'b')",
    'SELECT id, v FROM app.b WHERE id = 1',
    "UPDATE app.b SET v = 'c' WHERE id = 2",
    'DELETE FROM app.b WHERE id = 1',
  ]);
  assert.deepEqual(
    r.results.map((x) => [x.row_count, x.message ?? null, x.rows]),
    [
      [1, null, [[1n, 'a']]],
      [2, 'Inserted 2 row(s)', []],
      [1, 'Updated 1 row(s)', []],
      [1, 'Deleted 1 row(s)', []],
    ],
  );
});

test('errors carry code, message and HTTP status', async () => {
  const cases = [
    [() => root.query('SELECT * FROM app.missing'), 400],
    [() => root.query('SELEC nonsense'), 400, 'INVALID_SQL'],
    [() => root.query('SELECT id FROM app.b WHERE id = $1 AND v = $2', [1]), 400, 'INVALID_PARAMETER', 'parameter mismatch: expected 2, got 1'],
    [() => root.query(''), 400, 'EMPTY_SQL'],
  ];
  for (const [fn, status, code, message] of cases) {
    const e = await fn().then(() => assert.fail('expected an error'), (x) => x);
    assert.ok(e instanceof KalamError && e instanceof Error, String(e));
    assert.equal(e.status, status, e.message);
    if (code) assert.equal(e.code, code);
    if (message) assert.equal(e.message, message);
  }
  const missing = await root.query('SELECT * FROM app.missing').catch((x) => x);
  assert.deepEqual([missing.code, missing.status, missing.message], ['TABLE_NOT_FOUND', 400, "Statement 1 failed: Not found: Table 'app.missing' does not exist"]);

  const bad = createClient({ url: server.url, authProvider: Auth.basic('root', 'wrong-password') });
  const e = await bad.query('SELECT 1').catch((x) => x);
  assert.ok(e instanceof KalamError);
  assert.deepEqual([e.code, e.status, e.message], ['unauthorized', 401, 'Invalid credentials']);

  const perm = createClient({ url: server.url, authProvider: Auth.basic('alice', 'alice-password') });
  const pe = await perm.query("CREATE USER bob WITH PASSWORD 'bob-password' ROLE user").catch((x) => x);
  assert.equal(pe.status, 403);
  assert.equal(pe.code, 'PERMISSION_DENIED');
});

test('executeAsUser runs as the target user', async () => {
  await root.query("CREATE TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT) WITH (TYPE = 'USER')");
  const ins = await root.executeAsUser("INSERT INTO app.notes (id, body) VALUES ($1, 'mine')", 'alice', [5]);
  assert.equal(ins.results[0].as_user, 'alice');
  const alice = createClient({ url: server.url, authProvider: Auth.basic('alice', 'alice-password') });
  assert.deepEqual(await alice.queryAll('SELECT id, body FROM app.notes'), [{ id: 5n, body: 'mine' }]);
  assert.deepEqual(await root.queryAll('SELECT id, body FROM app.notes'), []);
  const who = await root.executeAsUser('SELECT CURRENT_USER() AS u', 'alice');
  assert.deepEqual(who.results[0].rows, [['alice']]);
});

function recordingFetch(log) {
  return async (url, init = {}) => {
    log.push({ path: new URL(url).pathname, auth: init.headers?.Authorization ?? null, body: init.body ?? null });
    return fetch(url, init);
  };
}

test('Auth.basic logs in through /v1/api/auth/login only and never sends Basic', async () => {
  const log = [];
  const c = createClient({ url: server.url, authProvider: Auth.basic('alice', 'alice-password'), fetch: recordingFetch(log) });
  const user = await c.login();
  assert.deepEqual([user.id, user.role], ['alice', 'user']);
  await c.query('SELECT 1');
  await c.query('SELECT 2');
  assert.deepEqual(log.map((l) => l.path), ['/v1/api/auth/login', '/v1/api/sql', '/v1/api/sql']);
  assert.deepEqual(JSON.parse(log[0].body), { user: 'alice', password: 'alice-password' });
  assert.equal(log[0].auth, null);
  for (const l of log.slice(1)) {
    assert.match(l.auth, /^Bearer ey/);
    assert.ok(!l.body.includes('alice-password'));
  }
  assert.ok(!log.some((l) => /basic/i.test(l.auth ?? '')));
});

test('tokens are refreshed before expiry and once after a 401', async () => {
  const log = [];
  // A margin longer than the access lifetime (24 h) means "expires soon" on every request.
  const c = createClient({ url: server.url, authProvider: Auth.basic('alice', 'alice-password'), fetch: recordingFetch(log), refreshMarginMs: 25 * 3600 * 1000 });
  await c.query('SELECT 1');
  await c.query('SELECT 1');
  assert.deepEqual(log.map((l) => l.path), ['/v1/api/auth/login', '/v1/api/sql', '/v1/api/auth/refresh', '/v1/api/sql']);
  assert.match(log[2].auth, /^Bearer ey/);
  assert.equal(log[2].body, null);

  const log2 = [];
  const d = createClient({ url: server.url, authProvider: Auth.basic('alice', 'alice-password'), fetch: recordingFetch(log2) });
  await d.login();
  d.tokens.setTokens('not-a-valid-token', d.tokens.refreshToken); // the server will refuse it
  const r = await d.query('SELECT 3 AS x');
  assert.deepEqual(r.results[0].rows, [[3n]]);
  assert.deepEqual(log2.map((l) => l.path), ['/v1/api/auth/login', '/v1/api/sql', '/v1/api/auth/refresh', '/v1/api/sql']);
  assert.equal(log2[1].auth, 'Bearer not-a-valid-token');

  // Explicit refresh and Auth.jwt with a token obtained elsewhere.
  await d.refreshToken();
  const token = d.tokens.lastLogin.access_token;
  const j = createClient({ url: server.url, authProvider: Auth.jwt(token) });
  assert.deepEqual((await j.query('SELECT CURRENT_USER()')).results[0].rows, [['alice']]);
  // A provider function is asked again for a token when the server refuses one.
  let calls = 0;
  const p = createClient({ url: server.url, authProvider: async () => (++calls === 1 ? Auth.jwt('bad.token.here') : Auth.jwt(token)) });
  assert.deepEqual((await p.query('SELECT CURRENT_USER()')).results[0].rows, [['alice']]);
  assert.equal(calls, 2);
  // A bad static token fails with the server's auth error.
  const bad = createClient({ url: server.url, authProvider: Auth.jwt('bad.token.here') });
  const e = await bad.query('SELECT 1').catch((x) => x);
  assert.deepEqual([e.code, e.status, e.message], ['AUTHENTICATION_ERROR', 401, 'Invalid token: Malformed token']);
});

test('authStatus', async () => {
  assert.deepEqual(Object.keys(await root.authStatus()).sort(), ['message', 'needs_setup']);
});
