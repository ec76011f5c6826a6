/**
 * Where a catch-up starts, kept in `<state>/cursors.json`: per chat, the last message handled
 * there; and `since`, a point in time when the gateway was connected, for chats that have no
 * cursor yet (a thread opened, or a user allowlisted, while the bot was away). Every message a
 * live connection saw moved its chat's cursor, so a chat without one had nothing before `since`
 * that is news. Snowflakes grow with time: cursors only ever move forward.
 *
 * Only the session holding the gateway connection moves cursors. They are written a moment
 * after they move, not per message: a cursor lost in a crash only makes the next catch-up fetch
 * messages again, and the hub's spool recognises those by id.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Log, errorText, writeFileAtomic } from '@openchannels/kit';

const SNOWFLAKE = /^\d{1,20}$/;
const DISCORD_EPOCH_MS = 1_420_070_400_000;
const WRITE_DELAY_MS = 250;
/** `since` is set this long before the connection came up: clocks differ, and fetching a little more is free. */
const CLOCK_MARGIN_MS = 60_000;

/** The smallest snowflake Discord could give a message sent at `ms`. */
export function snowflakeAt(ms: number): string {
  return String(BigInt(Math.max(0, Math.floor(ms) - DISCORD_EPOCH_MS)) << 22n);
}

export class Cursors {
  private readonly path: string;
  private readonly chats = new Map<string, string>();
  private sinceId: string | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    stateDir: string,
    private readonly log: Log,
  ) {
    this.path = join(stateDir, 'cursors.json');
    this.load();
  }

  get(chatId: string): string | undefined {
    return this.chats.get(chatId);
  }

  /** When the gateway was last known connected; undefined before the first connection ever. */
  since(): string | undefined {
    return this.sinceId;
  }

  advance(chatId: string, messageId: string): void {
    const current = this.chats.get(chatId);
    if (current !== undefined && BigInt(current) >= BigInt(messageId)) return;
    this.chats.set(chatId, messageId);
    this.changed();
  }

  /** The gateway connection was up at `ms`. */
  connectedAt(ms: number): void {
    const id = snowflakeAt(ms - CLOCK_MARGIN_MS);
    if (this.sinceId !== undefined && BigInt(this.sinceId) >= BigInt(id)) return;
    this.sinceId = id;
    this.changed();
  }

  /** Writes what has moved now (at shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    try {
      const file = { since: this.sinceId, chats: Object.fromEntries(this.chats) };
      writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
    } catch (err) {
      this.log(`could not save catch-up cursors to ${this.path}: ${errorText(err)}`);
    }
  }

  private changed(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => this.flush(), WRITE_DELAY_MS);
  }

  /** A missing file means a first start; entries that are not snowflakes (a hand edit) are skipped. */
  private load(): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log(`${this.path} is unreadable (${errorText(err)}); catching up only on chats seen from now on`);
      }
      return;
    }
    const file = (parsed && typeof parsed === 'object' ? parsed : {}) as { since?: unknown; chats?: unknown };
    if (typeof file.since === 'string' && SNOWFLAKE.test(file.since)) this.sinceId = file.since;
    const chats = file.chats && typeof file.chats === 'object' ? (file.chats as Record<string, unknown>) : {};
    for (const [chatId, messageId] of Object.entries(chats)) {
      if (SNOWFLAKE.test(chatId) && typeof messageId === 'string' && SNOWFLAKE.test(messageId)) this.chats.set(chatId, messageId);
    }
  }
}
