/**
 * The inbox spool: an append-only JSON-lines file in the state directory where an inbound event
 * is written (and flushed) before the platform is told it was received, and marked done once a
 * session has taken it. After a crash, what was spooled and not done is delivered again; keys
 * seen recently (platform update or message ids) let a re-sent platform item be recognised.
 */
import { existsSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from './state.js';
import type { Log } from './log.js';

export interface SpooledEvent {
  /** Spool sequence number: the order of arrival. */
  seq: number;
  /** The platform's id for the item (e.g. `update:1234`), to recognise a re-sent one. */
  key?: string;
  content: string;
  meta: Record<string, string>;
}

type Record_ = { t: 'event'; event: SpooledEvent } | { t: 'done'; seq: number } | { t: 'seen'; key: string };

/** How many recent keys survive a compaction. */
const KEPT_KEYS = 2000;

export class Spool {
  private handle?: FileHandle;
  private nextSeq = 1;
  private readonly pending = new Map<number, SpooledEvent>();
  private readonly seen = new Set<string>();

  private constructor(
    readonly path: string,
    private readonly log: Log,
  ) {}

  /** Opens the spool, recovering what a previous leader left undelivered, and compacts it. */
  static async open(path: string, log: Log): Promise<Spool> {
    const spool = new Spool(path, log);
    spool.load();
    spool.compact();
    spool.handle = await open(path, 'a', 0o600);
    return spool;
  }

  private load(): void {
    if (!existsSync(this.path)) return;
    const lines = readFileSync(this.path, 'utf8').split('\n');
    let damaged = 0;
    for (const line of lines) {
      if (!line) continue;
      let record: Record_;
      try {
        record = JSON.parse(line) as Record_;
      } catch {
        damaged++; // a torn last line after a crash mid-write
        continue;
      }
      if (record.t === 'event') {
        this.pending.set(record.event.seq, record.event);
        if (record.event.key) this.seen.add(record.event.key);
        this.nextSeq = Math.max(this.nextSeq, record.event.seq + 1);
      } else if (record.t === 'done') {
        this.pending.delete(record.seq);
      } else if (record.t === 'seen') {
        this.seen.add(record.key);
      }
    }
    if (damaged) this.log(`spool ${this.path}: skipped ${damaged} damaged line(s)`);
  }

  /** Rewrites the file with only what still matters: undelivered events and recent keys. */
  private compact(): void {
    const keys = [...this.seen].slice(-KEPT_KEYS);
    const pendingKeys = new Set([...this.pending.values()].map((e) => e.key));
    const lines = [
      ...keys.filter((key) => !pendingKeys.has(key)).map((key) => JSON.stringify({ t: 'seen', key })),
      ...[...this.pending.values()].map((event) => JSON.stringify({ t: 'event', event })),
    ];
    writeFileAtomic(this.path, lines.length ? `${lines.join('\n')}\n` : '');
  }

  /** Events not yet taken by a session, oldest first. */
  undelivered(): SpooledEvent[] {
    return [...this.pending.values()].sort((a, b) => a.seq - b.seq);
  }

  hasSeen(key: string): boolean {
    return this.seen.has(key);
  }

  /** Writes an event and flushes it to disk; resolves with it once it would survive a crash. */
  async add(content: string, meta: Record<string, string>, key?: string): Promise<SpooledEvent> {
    const event: SpooledEvent = { seq: this.nextSeq++, content, meta, ...(key ? { key } : {}) };
    this.pending.set(event.seq, event);
    if (key) this.seen.add(key);
    await this.handle!.appendFile(`${JSON.stringify({ t: 'event', event })}\n`);
    await this.handle!.datasync();
    return event;
  }

  /** Marks an event delivered. Not flushed: losing this line costs at most a repeat delivery. */
  async done(seq: number): Promise<void> {
    if (!this.pending.delete(seq)) return;
    await this.handle!.appendFile(`${JSON.stringify({ t: 'done', seq })}\n`);
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
