// Builds the console into dist/: one content-hashed JS bundle and stylesheet under dist/assets/
// and an index.html that loads them (no inline code, so the server's CSP can forbid it).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'dist');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(path.join(OUT, 'assets'), { recursive: true });

const r = await build({
  entryPoints: { app: path.join(HERE, 'src/main.tsx') },
  outdir: path.join(OUT, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  // The SDK from source: the console always matches the SDK in this checkout.
  alias: { '@kalamdb/client': path.join(HERE, '../sdk/typescript/src/index.ts') },
  metafile: true,
  logLevel: 'error',
});
const outputs = Object.keys(r.metafile.outputs).map((p) => path.basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
const html = readFileSync(path.join(HERE, 'index.html'), 'utf8')
  .replace('%APP_JS%', `/ui/assets/${js}`)
  .replace('%APP_CSS%', `/ui/assets/${css}`);
writeFileSync(path.join(OUT, 'index.html'), html);
writeFileSync(path.join(OUT, 'favicon.svg'), readFileSync(path.join(HERE, 'favicon.svg')));

let raw = 0;
let gz = 0;
for (const f of readdirSync(path.join(OUT, 'assets'))) {
  const b = readFileSync(path.join(OUT, 'assets', f));
  raw += statSync(path.join(OUT, 'assets', f)).size;
  gz += gzipSync(b, { level: 9 }).length;
}
console.log(`ui: dist/assets ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped`);
