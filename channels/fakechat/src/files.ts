/**
 * Files crossing the page: uploads saved into the inbox under a name that cannot escape it or
 * smuggle markup into the event, and attachments the agent sends, copied into the outbox and
 * served back with headers that keep them from running as part of the page.
 */
import { constants, copyFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { extname, join } from 'node:path';
import type { OutboundFile } from '@openchannels/kit';

/** The largest file the page may upload or the agent may attach. */
export const MAX_FILE_BYTES = 50 * 1024 * 1024;

const MAX_NAME_CHARS = 100;

/**
 * A file name safe to store and to show: the last path component only, without control
 * characters, bidirectional overrides (which can disguise an extension), markup or shell-ish
 * punctuation, and without leading dots (no hidden files, no `..`).
 */
export function safeFileName(raw: string): string {
  const lastComponent = raw.split(/[\\/]/).pop() ?? '';
  const cleaned = lastComponent
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[<>:"|?*;[\]`$]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '');
  const chars = Array.from(cleaned);
  if (chars.length === 0) return 'file';
  if (chars.length <= MAX_NAME_CHARS) return cleaned;
  const extension = safeExtension(cleaned);
  return Array.from(cleaned.slice(0, cleaned.length - extension.length))
    .slice(0, MAX_NAME_CHARS - extension.length)
    .join('') + extension;
}

/** The lower-cased extension when it is short and alphanumeric (`.png`), else nothing. */
function safeExtension(name: string): string {
  const extension = extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,10}$/.test(extension) ? extension : '';
}

/** Saves an upload as `<dir>/<ms>-<name>`, never overwriting a file already there. */
export async function saveUpload(dir: string, name: string, data: Uint8Array): Promise<string> {
  const stamp = Date.now();
  for (let attempt = 1; ; attempt++) {
    const path = join(dir, attempt === 1 ? `${stamp}-${name}` : `${stamp}-${attempt}-${name}`);
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Copies checked files into the outbox as `<ms>-<random><ext>`, all or none: when one copy
 * fails the ones already made are removed. Returns the stored names, in order.
 */
export function copyToOutbox(files: readonly OutboundFile[], outboxDir: string): string[] {
  const stored: string[] = [];
  try {
    for (const file of files) {
      const name = `${Date.now()}-${randomBytes(4).toString('hex')}${safeExtension(file.name)}`;
      copyFileSync(file.path, join(outboxDir, name), constants.COPYFILE_EXCL);
      stored.push(name);
    }
  } catch (err) {
    for (const name of stored) rmSync(join(outboxDir, name), { force: true });
    throw err;
  }
  return stored;
}

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.zip': 'application/zip',
};

/** By extension; anything unknown (HTML included) is opaque bytes. */
export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[safeExtension(name)] ?? 'application/octet-stream';
}

/** `attachment` with the name twice: an ASCII fallback and the exact UTF-8 name (RFC 6266). */
export function attachmentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
