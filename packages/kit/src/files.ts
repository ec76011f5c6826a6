/** The outbound file guard: what a tool may attach to a message. */
import { realpathSync, statSync } from 'node:fs';
import { basename, join, relative, isAbsolute, resolve } from 'node:path';

export interface OutboundFile {
  path: string;
  name: string;
  size: number;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Checks a file an agent asked to send. The channel's own state (tokens in `.env`,
 * `access.json`, ...) is never sent, however the path is spelled (symlinks are resolved);
 * attachments received into `<state>/inbox/` may be sent back. The file must be a regular file
 * no larger than `maxBytes`.
 */
export function checkOutboundFile(path: string, stateDir: string, maxBytes: number): OutboundFile {
  const real = realpathOr(path);
  const state = realpathOr(stateDir);
  if (isInside(real, state) && !isInside(real, join(state, 'inbox'))) {
    throw new Error(`refusing to send channel state: ${path}`);
  }
  let size: number;
  try {
    const stat = statSync(real);
    if (!stat.isFile()) throw new Error(`not a regular file: ${path}`);
    size = stat.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no such file: ${path}`);
    throw err;
  }
  if (size > maxBytes) throw new Error(`file too large: ${path} (${size} bytes, the limit is ${maxBytes})`);
  return { path: real, name: basename(path), size };
}
