// Prints the client's browser bundle size: esbuild-minified ESM, then gzip -9.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const [name, entry] of [['@kalamdb/client', 'dist/index.js'], ['@kalamdb/react', 'react/dist/index.js']]) {
  const r = await build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: ['react', '@kalamdb/client'],
    logLevel: 'error',
  });
  const js = r.outputFiles[0].contents;
  console.log(`${name}: ${js.length} bytes minified, ${gzipSync(js, { level: 9 }).length} bytes minified+gzip`);
}
