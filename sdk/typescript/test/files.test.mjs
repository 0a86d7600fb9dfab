// @kalamdb/client FILE helpers against the real kalamdb-server: queryWithFiles (multipart upload),
// FileRef parsing, fileUrl / downloadFile (permissions, ETag, ranges), error codes, lifecycle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startServer, ROOT_PASSWORD, DEFAULT_CONFIG, waitFor } from './server.mjs';
import { createClient, Auth, KalamError, parseFileRef, storedFileName } from '../dist/index.js';

// Multipart bodies get files.max_request_bytes when it is above limits.max_body_bytes.
const CONFIG = DEFAULT_CONFIG + `
[limits]
max_body_bytes = 200000
[files]
max_size_bytes = 400000
max_files_per_request = 3
max_request_bytes = 1000000
allowed_mime_types = ["image/*", "application/octet-stream", "text/plain"]
`;

let server;
let root;
let alice;
let bob;
let aliceId;
before(async () => {
  server = await startServer({ config: CONFIG });
  root = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  await root.query('CREATE NAMESPACE app');
  await root.query('CREATE USER TABLE app.docs (id INT PRIMARY KEY, title TEXT, doc FILE)');
  await root.query("CREATE USER alice WITH PASSWORD 'alice-password' ROLE user");
  await root.query("CREATE USER bob WITH PASSWORD 'bob-password' ROLE user");
  alice = createClient({ url: server.url, authProvider: Auth.basic('alice', 'alice-password'), namespace: 'app' });
  bob = createClient({ url: server.url, authProvider: Auth.basic('bob', 'bob-password'), namespace: 'app' });
  aliceId = (await alice.login()).id;
});
after(async () => {
  await alice?.disconnect();
  await server?.stop();
});

const sha = (b) => createHash('sha256').update(b).digest('hex');
const loc = { table: 'docs' };

async function rejects(p, code, status, message) {
  const e = await p.then(
    () => assert.fail(`expected ${code}`),
    (x) => x,
  );
  assert.ok(e instanceof KalamError, String(e));
  assert.deepEqual([e.code, e.status, e.message], [code, status, message]);
}

test('upload 300 KB into a USER table, read the FileRef, download byte-identical', async () => {
  const bytes = randomBytes(300_000);
  const r = await alice.queryWithFiles('INSERT INTO docs (id, title, doc) VALUES ($1, $2, FILE("report"))', { report: { data: bytes, filename: 'Q3 Report.bin' } }, [1, 'Q3']);
  assert.equal(r.results[0].row_count, 1);

  const text = (await alice.queryOne('SELECT doc FROM docs WHERE id = 1')).doc;
  assert.equal(typeof text, 'string'); // the JSON text unless asked
  const { doc } = await alice.queryOne('SELECT doc FROM docs WHERE id = 1', undefined, { parseFiles: true });
  assert.deepEqual(Object.keys(doc), ['id', 'sub', 'name', 'size', 'mime', 'sha256']);
  assert.match(doc.id, /^[0-9]+$/);
  assert.deepEqual([doc.sub, doc.name, doc.size, doc.mime, doc.sha256], ['f0001', 'Q3 Report.bin', 300_000, 'application/octet-stream', sha(bytes)]);
  assert.deepEqual(parseFileRef(text), doc);
  assert.equal(storedFileName(doc), `${doc.id}-q3-report.bin`);

  const d = await alice.downloadFile(doc, loc);
  assert.deepEqual([d.status, d.notModified, d.etag, d.contentType], [200, false, `"${doc.id}"`, 'application/octet-stream']);
  assert.ok(d.data instanceof Uint8Array);
  assert.equal(sha(d.data), sha(bytes));

  // ETag passthrough and ranges.
  const again = await alice.downloadFile(doc, { ...loc, ifNoneMatch: d.etag });
  assert.deepEqual([again.status, again.notModified, again.data.length], [304, true, 0]);
  const part = await alice.downloadFile(text, { ...loc, range: 'bytes=100-199' });
  assert.equal(part.status, 206);
  assert.deepEqual(Buffer.from(part.data), bytes.subarray(100, 200));
  await rejects(alice.downloadFile(doc, { ...loc, range: 'bytes=300000-' }), 'RANGE_NOT_SATISFIABLE', 416, 'Requested range not satisfiable');

  // fileUrl: absolute, usable with the bearer token, refused without it.
  const url = alice.fileUrl(doc, { namespace: 'app', table: 'docs' });
  assert.equal(url, `${server.url}/v1/files/app/docs/f0001/${doc.id}-q3-report.bin`);
  const res = await fetch(url, { headers: { Authorization: `Bearer ${await alice.accessToken()}` } });
  assert.equal(res.status, 200);
  assert.equal(sha(new Uint8Array(await res.arrayBuffer())), sha(bytes));
  assert.equal((await fetch(url)).status, 401);
});

test('Blob, File, Uint8Array and {data, filename, mimeType} inputs; server-compatible stored names', async () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  await alice.queryWithFiles(
    'INSERT INTO docs (id, doc) VALUES (10, FILE("a")), (11, FILE("b")), (12, FILE("c"))',
    {
      a: new File([png], 'Ünïcode Ph_o--to  (1).PNG', { type: 'image/png' }),
      b: new Blob(['hello text'], { type: 'text/plain' }),
      c: new Uint8Array([1, 2, 3]),
    },
  );
  const rows = await alice.queryAll('SELECT id, doc FROM docs WHERE id >= 10 ORDER BY id', undefined, { parseFiles: true });
  const [a, b, c] = rows.map((r) => r.doc);
  assert.deepEqual([a.name, a.mime, a.size], ['Ünïcode Ph_o--to  (1).PNG', 'image/png', 11]);
  assert.equal(storedFileName(a), `${a.id}-ncode-ph-o-to-1.png`);
  assert.deepEqual([b.name, b.mime, b.size], ['b', 'text/plain', 10]);
  assert.equal(storedFileName(b), `${b.id}-b.bin`);
  assert.deepEqual([c.name, c.mime, c.size], ['c', 'application/octet-stream', 3]);
  // Each stored name the client derives is the server's: the downloads find the files.
  assert.deepEqual([...(await alice.downloadFile(a, loc)).data], [...png]);
  assert.equal(new TextDecoder().decode((await alice.downloadFile(b, loc)).data), 'hello text');
  assert.deepEqual([...(await alice.downloadFile(c, loc)).data], [1, 2, 3]);
  // A FILE column holding other JSON text: parseFiles leaves it, parseJson parses it.
  await alice.query(`INSERT INTO docs (id, doc) VALUES (13, '{"not":"a fileref"}')`);
  assert.deepEqual(await alice.queryOne('SELECT doc FROM docs WHERE id = 13', undefined, { parseFiles: true }), { doc: '{"not":"a fileref"}' });
  assert.deepEqual(await alice.queryOne('SELECT doc FROM docs WHERE id = 13', undefined, { parseJson: true, parseFiles: true }), { doc: { not: 'a fileref' } });
  // Names with nothing left after sanitising, long names, odd extensions.
  assert.equal(storedFileName({ id: '7', name: 'ü.txt' }), '7.txt');
  assert.equal(storedFileName({ id: '7', name: '.hidden' }), '7-hidden.bin'); // a leading dot is no extension
  assert.equal(storedFileName({ id: '7', name: 'dir/sub\\x y.tar.GZ' }), '7-x-ytar.gz'); // the inner dot is dropped
  assert.equal(storedFileName({ id: '7', name: 'a.verylongextension' }), '7-a.bin');
  assert.equal(storedFileName({ id: '7', name: 'x'.repeat(49) + '-yy.md' }), '7-' + 'x'.repeat(49) + '.md');
  await rejects(Promise.resolve().then(() => alice.fileUrl('{"id":"1"}', loc)), 'INVALID_ARGUMENT', 0, 'not a FileRef');
});

test('download permissions: another user is refused, dba/system may read with userId', async () => {
  const { doc } = await alice.queryOne('SELECT doc FROM docs WHERE id = 1', undefined, { parseFiles: true });
  await rejects(bob.downloadFile(doc, { ...loc, userId: aliceId }), 'PERMISSION_DENIED', 403, 'Requested user is not allowed for the current role');
  await rejects(bob.downloadFile(doc, loc), 'FILE_NOT_FOUND', 404, 'File not found'); // bob's own scope
  const d = await root.downloadFile(doc, { namespace: 'app', table: 'docs', userId: aliceId });
  assert.equal(sha(d.data), doc.sha256);
  await rejects(alice.downloadFile(doc, { namespace: 'app', table: 'nope' }), 'NOT_FOUND', 404, "Table 'app:nope' not found");
  assert.throws(() => createClient({ url: server.url }).fileUrl(doc, { table: 'docs' }), (e) => e instanceof KalamError && e.code === 'INVALID_ARGUMENT');
});

test('every upload error is a KalamError with the server code and status', async () => {
  const small = { data: new Uint8Array(10), filename: 'a.bin' };
  const ins = 'INSERT INTO app.docs (id, doc) VALUES (50, FILE("a"))';
  await rejects(alice.queryWithFiles('INSERT INTO app.docs (id, title, doc) VALUES (50, FILE("a"), FILE(\'b\'))', { a: small }), 'MISSING_FILE', 400, 'FILE("b") has no file part \'file:b\'');
  await rejects(alice.queryWithFiles(ins, { a: small, b: small }), 'EXTRA_FILE', 400, 'File part \'file:b\' is not used by a FILE("b") placeholder');
  await rejects(alice.queryWithFiles(ins, { a: { data: new Uint8Array([0x4d, 0x5a]), filename: 'evil.exe', mimeType: 'application/x-msdownload' } }), 'INVALID_MIME_TYPE', 400, "MIME type 'application/x-msdownload' not allowed for file 'evil.exe'");
  await rejects(alice.queryWithFiles(ins, { a: { data: new Uint8Array(400_001), filename: 'big.bin' } }), 'FILE_TOO_LARGE', 400, "File 'big.bin' exceeds maximum size of 400000 bytes");
  await rejects(alice.queryWithFiles(ins, { a: small, b: small, c: small, d: small }), 'TOO_MANY_FILES', 400, 'Too many files: maximum 3 allowed');
  await rejects(alice.queryWithFiles(ins, { a: new Uint8Array(1_000_001) }), 'BODY_TOO_LARGE', 413, 'Request body too large');
  await rejects(alice.queryWithFiles('INSERT INTO app.nope (id, doc) VALUES (1, FILE("a"))', { a: small }), 'TABLE_NOT_FOUND', 400, 'Requested table is not available');
  await rejects(alice.query(ins), 'INVALID_INPUT', 400, 'FILE placeholders require multipart/form-data');
  await rejects(alice.queryWithFiles(ins, { a: 42 }), 'INVALID_ARGUMENT', 0, "file 'a' must be a Blob, Uint8Array, ArrayBuffer or {data, filename, mimeType}");
  // Nothing was written by the failed uploads.
  assert.equal(await alice.queryOne('SELECT id FROM app.docs WHERE id = 50'), null);
});

test('UPDATE replacing a file: the old URL is gone (404), the new one downloads', async () => {
  await alice.queryWithFiles('INSERT INTO docs (id, doc) VALUES (20, FILE("f"))', { f: { data: new TextEncoder().encode('old'), filename: 'v1.txt', mimeType: 'text/plain' } });
  const { doc: old } = await alice.queryOne('SELECT doc FROM docs WHERE id = 20', undefined, { parseFiles: true });
  assert.equal(new TextDecoder().decode((await alice.downloadFile(old, loc)).data), 'old');
  const r = await alice.queryWithFiles('UPDATE docs SET doc = FILE("f") WHERE id = $1', { f: { data: new TextEncoder().encode('new!'), filename: 'v2.txt', mimeType: 'text/plain' } }, [20]);
  assert.equal(r.results[0].row_count, 1);
  const { doc: cur } = await alice.queryOne('SELECT doc FROM docs WHERE id = 20', undefined, { parseFiles: true });
  assert.notEqual(cur.id, old.id);
  assert.equal(new TextDecoder().decode((await alice.downloadFile(cur, loc)).data), 'new!');
  await rejects(alice.downloadFile(old, loc), 'FILE_NOT_FOUND', 404, 'File not found');
  const res = await fetch(alice.fileUrl(old, loc), { headers: { Authorization: `Bearer ${await alice.accessToken()}` } });
  assert.equal(res.status, 404);
});

test('a refused token is renewed once for uploads and downloads', async () => {
  const token = await alice.accessToken();
  let calls = 0;
  const c = createClient({ url: server.url, namespace: 'app', authProvider: async () => (++calls % 2 === 1 ? Auth.jwt('bad.token.here') : Auth.jwt(token)) });
  await c.queryWithFiles('INSERT INTO docs (id, doc) VALUES (30, FILE("f"))', { f: new Uint8Array([9, 9]) });
  assert.equal(calls, 2);
  const { doc } = await c.queryOne('SELECT doc FROM docs WHERE id = 30', undefined, { parseFiles: true });
  c.tokens.invalidate(token); // the next call asks the provider again: first a bad token
  assert.deepEqual([...(await c.downloadFile(doc, loc)).data], [9, 9]);
  assert.equal(calls, 4);
  const bad = createClient({ url: server.url, namespace: 'app', authProvider: Auth.jwt('bad.token.here') });
  await rejects(bad.downloadFile(doc, loc), 'AUTHENTICATION_ERROR', 401, 'Invalid token: Malformed token');
  await rejects(bad.queryWithFiles('INSERT INTO docs (id, doc) VALUES (31, FILE("f"))', { f: new Uint8Array(1) }), 'AUTHENTICATION_ERROR', 401, 'Invalid token: Malformed token');
});

test('live rows parse FILE values with parseFiles', async () => {
  let latest = [];
  const stop = await alice.live('SELECT id, doc FROM app.docs WHERE id >= 40', (rows) => (latest = rows), { parseFiles: true });
  await alice.queryWithFiles('INSERT INTO docs (id, doc) VALUES (40, FILE("f"))', { f: { data: new Uint8Array([7]), filename: 'seven.bin' } });
  await waitFor(() => latest.length === 1, 10000, 'the live row');
  const ref = latest[0].doc;
  assert.deepEqual([ref.name, ref.size, ref.sub, ref.sha256], ['seven.bin', 1, 'f0001', sha(new Uint8Array([7]))]);
  assert.deepEqual([...(await alice.downloadFile(ref, loc)).data], [7]);
  await stop();
});
