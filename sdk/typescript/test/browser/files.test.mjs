// FILE upload and download from headless Chromium against the real server (FormData and fetch of
// the browser, CORS preflight with the Authorization header).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ROOT_PASSWORD } from '../server.mjs';
import { createClient, Auth } from '../../dist/index.js';
import { bundle, servePage, launch, CORS_CONFIG } from './harness.mjs';

let server;
let chrome;
before(async () => {
  server = await startServer({ config: CORS_CONFIG });
  const root = createClient({ url: server.url, authProvider: Auth.basic('root', ROOT_PASSWORD) });
  await root.query('CREATE NAMESPACE app');
  await root.query('CREATE USER TABLE app.pics (id INT PRIMARY KEY, img FILE)');
  chrome = await launch();
});
after(async () => {
  await chrome?.close();
  await server?.stop();
});

test('browser: queryWithFiles from a File, FileRef back, downloadFile → object URL, byte-identical', async () => {
  const page = await servePage(await bundle('files_page.js'));
  const tab = await chrome.newPage();
  const logs = [];
  tab.on('pageerror', (e) => logs.push(String(e)));
  await tab.goto(`${page.url}?url=${encodeURIComponent(server.url)}&password=${encodeURIComponent(ROOT_PASSWORD)}`);
  const r = await tab.evaluate(() => window.kalamFiles).catch((e) => {
    throw new Error(`${e.message}: ${logs.join('\n')}`);
  });
  assert.deepEqual([r.ref.name, r.ref.size, r.ref.mime, r.ref.sha256], ['Browser Photo.png', 200_000, 'image/png', r.uploaded]);
  assert.equal(r.downloaded, r.uploaded);
  assert.equal(r.viaObjectUrl, r.uploaded);
  // Cross-origin too the ETag is readable (Access-Control-Expose-Headers) and If-None-Match passes
  // the preflight (Access-Control-Allow-Headers), so a conditional download answers 304.
  assert.deepEqual([r.status, r.contentType, r.etag], [200, 'image/png', `"${r.ref.id}"`]);
  assert.deepEqual(r.range, [206, 10]);
  assert.deepEqual(r.cond, [304]);
  assert.equal(r.url, `${server.url}/v1/files/app/pics/f0001/${r.ref.id}-browser-photo.png`);
  assert.deepEqual(r.error, ['KalamError', 'MISSING_FILE', 400, 'FILE("x") has no file part \'file:x\'']);
  await tab.close();
  await page.close();
});
