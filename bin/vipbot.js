#!/usr/bin/env node
// Entry point. Runs the bundle (dist/vipbot.mjs, `npm run build`) when every source it was built from
// is unchanged; otherwise the TypeScript sources through the tsx loader, so an edit is never shadowed
// by a stale build. VIPBOT_FROM_SOURCE=1 forces the sources.
import { readFileSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// A long-running bot with a small live heap: V8's default heap growth let garbage from a burst of jobs
// pile up to ~200 MB RSS before a full GC; favouring size keeps it near 125 MB (bench/README.md).
// Set before anything is loaded, so the whole heap is sized this way.
setFlagsFromString('--optimize-for-size');

const root = new URL('../', import.meta.url);

function bundleIsFresh() {
  if (process.env.VIPBOT_FROM_SOURCE === '1') return false;
  try {
    const { inputs } = JSON.parse(readFileSync(new URL('dist/inputs.json', root), 'utf8'));
    const files = Object.entries(inputs);
    return files.length > 0 && files.every(([path, recorded]) => {
      const now = statSync(new URL(path, root));
      return now.size === recorded.size && now.mtimeMs === recorded.mtimeMs;
    });
  } catch {
    return false;
  }
}

async function runSources() {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}

if (bundleIsFresh()) {
  const bundle = new URL('dist/vipbot.mjs', root).href;
  // A rebuild may swap dist/ between the check and the import: then run the sources.
  await import(bundle).catch((err) => {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/vipbot.mjs')) return runSources();
    throw err;
  });
} else {
  await runSources();
}
