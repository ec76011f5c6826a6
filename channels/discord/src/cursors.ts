/**
 * The last delivered message id per chat, kept in `<state>/cursors.json`, so that a leader
 * starting (or reconnecting) can fetch what was written in the meantime. Snowflakes grow with
 * time: a cursor only ever moves forward.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@openchannels/kit';

export class Cursors {
  private readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'cursors.json');
  }

  get(chatId: string): string | undefined {
    return this.read()[chatId];
  }

  advance(chatId: string, messageId: string): void {
    const cursors = this.read();
    const current = cursors[chatId];
    if (current !== undefined && BigInt(current) >= BigInt(messageId)) return;
    cursors[chatId] = messageId;
    writeFileAtomic(this.path, `${JSON.stringify(cursors, null, 2)}\n`);
  }

  private read(): Record<string, string> {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
    } catch {
      return {};
    }
  }
}
