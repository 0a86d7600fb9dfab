// Browser test page: uploads a Blob built in the page (multipart through the browser's fetch and
// FormData), reads the FileRef back, downloads it with the token and makes an object URL of it.
import { createClient, Auth } from '../../dist/index.js';

const q = new URLSearchParams(location.search);
const hex = async (data) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', data))].map((b) => b.toString(16).padStart(2, '0')).join('');
window.kalamFiles = (async () => {
  const client = createClient({ url: q.get('url'), authProvider: Auth.basic('root', q.get('password')), namespace: 'app' });
  const bytes = new Uint8Array(200_000);
  for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  const blob = new Blob([bytes], { type: 'image/png' });
  await client.queryWithFiles('INSERT INTO pics (id, img) VALUES ($1, FILE("img"))', { img: new File([blob], 'Browser Photo.png', { type: 'image/png' }) }, [1]);
  const { img } = await client.queryOne('SELECT img FROM pics WHERE id = 1', undefined, { parseFiles: true });
  const d = await client.downloadFile(img, { table: 'pics' });
  const objectUrl = URL.createObjectURL(new Blob([d.data], { type: d.contentType }));
  const viaObjectUrl = new Uint8Array(await (await fetch(objectUrl)).arrayBuffer());
  URL.revokeObjectURL(objectUrl);
  // Cross-origin: the server's CORS answer allows only Authorization and Content-Type request
  // headers and exposes no response header beyond the safelisted ones (see the test).
  const range = await client.downloadFile(img, { table: 'pics', range: 'bytes=0-9' }).then((x) => [x.status, x.data.length], (e) => [e.code]);
  const cond = await client.downloadFile(img, { table: 'pics', ifNoneMatch: `"${img.id}"` }).then((x) => [x.status], (e) => [e.code]);
  const err = await client.queryWithFiles('INSERT INTO pics (id, img) VALUES (2, FILE("x"))', {}).catch((e) => e);
  return {
    ref: img,
    uploaded: await hex(bytes),
    downloaded: await hex(d.data),
    viaObjectUrl: await hex(viaObjectUrl),
    status: d.status,
    contentType: d.contentType,
    etag: d.etag,
    url: client.fileUrl(img, { table: 'pics' }),
    range,
    cond,
    error: [err.name, err.code, err.status, err.message],
  };
})();
