/**
 * GET /events: what the channel sends out (replies, permission prompts, resolved verdicts) as
 * Server-Sent Events. Recent items stay in a bounded backlog, so a listener that reconnects with
 * `Last-Event-ID` gets what it missed; `?chat_id=` narrows replies to one chat.
 */
import type { ServerResponse } from 'node:http';
import type { Log } from '@openchannels/kit';

export type OutboundKind = 'reply' | 'permission_request' | 'permission_resolved';

interface OutboundItem {
  seq: number;
  /** Replies belong to a chat; other items concern the whole session and go to every listener. */
  chatId?: string;
  /** The SSE frame, serialized once however many listeners receive it. */
  frame: string;
}

interface Listener {
  res: ServerResponse;
  chatId?: string;
}

export interface EventStreamOptions {
  log: Log;
  backlogSize?: number;
  keepaliveMs?: number;
  /** A listener with more than this unsent is cut off; it can reconnect and resume. */
  maxBufferedBytes?: number;
}

/** Event ids are `<boot>-<seq>`: an id from an earlier run of the server is recognisably stale. */
const EVENT_ID = /^([0-9a-z]+)-(\d+)$/;

export class EventStream {
  private readonly bootId = Date.now().toString(36);
  private seq = 0;
  private readonly backlog: OutboundItem[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly keepalive: NodeJS.Timeout;
  private readonly log: Log;
  private readonly backlogSize: number;
  private readonly maxBufferedBytes: number;

  constructor({ log, backlogSize = 1000, keepaliveMs = 15_000, maxBufferedBytes = 1024 * 1024 }: EventStreamOptions) {
    this.log = log;
    this.backlogSize = backlogSize;
    this.maxBufferedBytes = maxBufferedBytes;
    // Proxies and tunnels drop connections that stay silent; a comment line keeps them open.
    this.keepalive = setInterval(() => {
      for (const listener of this.listeners) this.write(listener, ': keepalive\n\n');
    }, keepaliveMs).unref();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Sends an item to every listener it concerns and keeps it in the backlog; returns its id. */
  publish(kind: OutboundKind, data: Record<string, string>, chatId?: string): string {
    const seq = ++this.seq;
    const id = `${this.bootId}-${seq}`;
    const item: OutboundItem = { seq, chatId, frame: `id: ${id}\nevent: ${kind}\ndata: ${JSON.stringify(data)}\n\n` };
    this.backlog.push(item);
    if (this.backlog.length > this.backlogSize) this.backlog.shift();
    for (const listener of this.listeners) {
      if (concerns(item, listener)) this.write(listener, item.frame);
    }
    return id;
  }

  /**
   * Starts streaming to `res`. With `lastEventId`, first replays the backlog after that id (all
   * of it when the id is from an earlier run), and says so with a `gap` event when items after
   * it have already left the backlog.
   */
  attach(res: ServerResponse, { chatId, lastEventId }: { chatId?: string; lastEventId?: string } = {}): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const listener: Listener = { res, chatId };
    this.listeners.add(listener);
    res.on('close', () => this.listeners.delete(listener));
    this.write(listener, 'retry: 2000\n: webhook channel events\n\n');
    if (lastEventId !== undefined) this.replay(listener, lastEventId);
  }

  private replay(listener: Listener, lastEventId: string): void {
    const match = EVENT_ID.exec(lastEventId.trim());
    const after = match && match[1] === this.bootId ? Number(match[2]) : 0;
    const oldest = this.backlog[0]?.seq ?? this.seq + 1;
    if (after > 0 && after < oldest - 1) {
      const gap = { reason: `items after ${lastEventId} are no longer in the backlog (it keeps the last ${this.backlogSize})` };
      this.write(listener, `event: gap\ndata: ${JSON.stringify(gap)}\n\n`);
    }
    for (const item of this.backlog) {
      if (item.seq > after && concerns(item, listener)) this.write(listener, item.frame);
    }
  }

  private write(listener: Listener, frame: string): void {
    listener.res.write(frame);
    if (listener.res.writableLength > this.maxBufferedBytes) {
      const unsent = listener.res.writableLength;
      this.log(`cut off an /events listener that is not reading (${unsent} bytes unsent); it can reconnect with Last-Event-ID`);
      this.listeners.delete(listener);
      listener.res.destroy();
    }
  }

  /** Ends every stream, so the HTTP server can close and the process exit. */
  close(): void {
    clearInterval(this.keepalive);
    for (const { res } of this.listeners) res.end();
    this.listeners.clear();
  }
}

function concerns(item: OutboundItem, listener: Listener): boolean {
  return item.chatId === undefined || listener.chatId === undefined || item.chatId === listener.chatId;
}
