// `npm run build`: bundles the TypeScript sources into dist/vipbot.mjs (dependencies stay in
// node_modules). The bundle starts without the TypeScript loader, which saves about 40 MB of RSS and
// most of the start-up time. dist/inputs.json records each source file's size and mtime:
// bin/vipbot.js runs the bundle only while every one of them is unchanged, else the sources via tsx.
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
// Built beside dist/ and swapped in whole: a vipbot starting meanwhile sees the old build or none
// (then it runs the sources), never half of one.
const staging = join(root, `.dist-${process.pid}`);
const started = performance.now();

await rm(staging, { recursive: true, force: true });
await mkdir(staging, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts'],
  outfile: join(staging, 'vipbot.mjs'),
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
// Loaded at run time by URL, next to the bundle (src/memory/render-chart-off-thread.ts).
const assets = ['src/memory/chart-png-worker.mjs'];
for (const asset of assets) await copyFile(join(root, asset), join(staging, asset.split('/').pop()));

const inputs = {};
for (const path of [...Object.keys(result.metafile.inputs), ...assets].sort()) {
  const info = await stat(join(root, path));
  inputs[relative(root, join(root, path))] = { size: info.size, mtimeMs: info.mtimeMs };
}
await writeFile(join(staging, 'inputs.json'), `${JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 1)}\n`);
const old = `${staging}-old`;
await rename(dist, old).catch((err) => {
  if (err.code !== 'ENOENT') throw err;
});
await rename(staging, dist);
await rm(old, { recursive: true, force: true });
process.stderr.write(`build: dist/vipbot.mjs from ${Object.keys(inputs).length} files in ${(performance.now() - started).toFixed(0)} ms\n`);
