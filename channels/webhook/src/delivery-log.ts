/**
 * `<state>/deliveries.log`: the delivery ids the replay guard claimed, and gave back when delivery
 * failed, one JSON line each, so a delivery received before a restart is still refused after it.
 * GitHub signs no timestamp: without this, a captured delivery would verify again after every
 * restart.
 *
 * Lines are appended without fsync: a delivery takes about 0.2 ms, and a flush to disk costs as
 * much again, or many times more on a disk that really flushes. A crash of the process loses
 * nothing (the written pages stay in the OS page cache); only a power loss can lose the last few
 * ids.
 */
import { appendFileSync, chmodSync, readFileSync } from 'node:fs';
import { type Log, errorText, writeFileAtomic } from '@openchannels/kit';

export interface DeliveryRecord {
  t: 'claim' | 'release';
  source: string;
  delivery: string;
}

function isDeliveryRecord(value: unknown): value is DeliveryRecord {
  const record = value as Partial<DeliveryRecord> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    (record.t === 'claim' || record.t === 'release') &&
    typeof record.source === 'string' &&
    typeof record.delivery === 'string'
  );
}

function recordLine(record: DeliveryRecord): string {
  return `${JSON.stringify(record)}\n`;
}

export class DeliveryLog {
  /** Lines in the file: past `maxLines` it is rewritten with only the current claims. */
  private lines = 0;
  /**
   * Lines that are not records, or a last line without its newline (torn by a crash mid-write):
   * the next write rewrites the file, since a line appended to a torn one would be lost with it.
   */
  private damaged = false;

  constructor(
    readonly path: string,
    private readonly maxLines: number,
    private readonly log: Log,
  ) {}

  /**
   * The records in the file, oldest first. Lines that are not records are skipped with one log
   * line; a file that cannot be read is logged too: the channel starts either way.
   */
  read(): DeliveryRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
      chmodSync(this.path, 0o600); // what was delivered, and when, is this user's business only, as with .env
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log(
          `could not read ${this.path} (${errorText(err)}); ` +
            'deliveries received before this start are not refused as replays',
        );
      }
      return [];
    }
    const records: DeliveryRecord[] = [];
    let skipped = 0;
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      this.lines++;
      let record: unknown;
      try {
        record = JSON.parse(raw);
      } catch {
        record = undefined;
      }
      if (isDeliveryRecord(record)) records.push(record);
      else skipped++;
    }
    if (skipped) this.log(`${this.path}: skipped ${skipped} line(s) that are not delivery records`);
    this.damaged = skipped > 0 || (text.length > 0 && !text.endsWith('\n'));
    return records;
  }

  /**
   * Appends `record`, or rewrites the file with `current()` (the claims standing once `record`
   * is applied) when it is damaged or has grown past its bound. A failed write is logged and the
   * delivery goes on: the guard in memory still holds the id, only a restart forgets it.
   */
  write(record: DeliveryRecord, current: () => DeliveryRecord[]): void {
    try {
      if (this.damaged || this.lines >= this.maxLines) {
        const claims = current();
        writeFileAtomic(this.path, claims.map(recordLine).join(''));
        this.lines = claims.length;
        this.damaged = false;
      } else {
        appendFileSync(this.path, recordLine(record), { mode: 0o600 });
        this.lines++;
      }
    } catch (err) {
      const consequence =
        record.t === 'claim'
          ? 'a replay of it is refused only until the channel restarts'
          : 'after a restart, a retry of it would be refused as a replay';
      this.log(
        `could not record the ${record.t} of delivery ${record.delivery} (${record.source}) in ${this.path}: ` +
          `${errorText(err)}; ${consequence}`,
      );
    }
  }
}
