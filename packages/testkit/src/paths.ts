import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: `<root>/packages/testkit/dist/src/paths.js`. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A fresh directory to use as a channel's state directory in one test. */
export function tempStateDir(prefix = 'openchannels-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
