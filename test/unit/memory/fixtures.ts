import { readFileSync } from 'node:fs';

/** Reads a file from test/fixtures/memory. */
export function readMemoryFixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/memory/${name}`, import.meta.url), 'utf8');
}

export const KIB = 1024;
export const MIB = 1024 * 1024;
