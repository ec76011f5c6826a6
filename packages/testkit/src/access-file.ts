/** access.json as a test writes it before a chat channel starts, and reads it back. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AccessFile {
  dmPolicy?: string;
  allowFrom?: string[];
  groups?: Record<string, { requireMention?: boolean; allowFrom?: string[] }>;
  pending?: Record<string, unknown>;
  [setting: string]: unknown;
}

/** What a channel saved (it writes every field), pending pairings spelled out. */
export type SavedAccess = Required<Pick<AccessFile, 'dmPolicy' | 'allowFrom' | 'groups'>> &
  AccessFile & { pending: Record<string, { senderId: string; chatId: string; createdAt: number; expiresAt: number; replies: number }> };

export function writeAccessFile(stateDir: string, access: AccessFile): void {
  writeFileSync(join(stateDir, 'access.json'), `${JSON.stringify(access, null, 2)}\n`);
}

export function readAccessFile(stateDir: string): SavedAccess {
  return JSON.parse(readFileSync(join(stateDir, 'access.json'), 'utf8'));
}
