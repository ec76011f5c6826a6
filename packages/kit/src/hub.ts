/**
 * One platform connection per machine, shared by every session that starts the channel.
 *
 * The first channel server to start for a state directory becomes the leader: it alone holds the
 * platform connection (a Telegram poller, a Discord gateway) and a local socket the others join as
 * members. Inbound events are written to the spool before the platform is told they arrived, then
 * delivered in order, one at a time, to the session the user chose (by default the one attached
 * last); a session that goes away hands its unacknowledged event to the next. Permission verdicts
 * go to every session (a host ignores ids it did not ask). When the leader's session ends, a member
 * takes over and replays what was not delivered; when the last session ends, nothing keeps the
 * platform connection open. Every process belongs to a session, so none is ever orphaned.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, statSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Verdict } from './contract.js';
import { jsonLine, onJsonLines } from './json-lines.js';
import { type Log, errorText } from './log.js';
import { type SpooledEvent, Spool } from './spool.js';

export interface SessionInfo {
  id: string;
  /** How the user tells sessions apart, e.g. the project folder's name. */
  label: string;
  pid: number;
  attachedAt: number;
}

/** What the leader's platform connection may do. */
export interface LeaderContext {
  /**
   * Accepts an inbound event for the sessions. Resolves once it is safely on disk: only then may
   * the platform be told the item was received. Resolves false for a key already seen (a
   * re-sent platform item), which is not delivered again.
   */
  publish(content: string, meta: Record<string, string>, key?: string): Promise<boolean>;
  /** A permission verdict from the platform, for every session. */
  verdict(verdict: Verdict): void;
  sessions(): SessionInfo[];
  /** The session that receives events now. */
  active(): SessionInfo | undefined;
  /** Makes a session the receiving one; false if no such session is attached. */
  route(sessionId: string): boolean;
  /**
   * Receives what sessions send with `hub.tellLeader` (e.g. permission prompts to show on the
   * platform, whose answers arrive at the leader).
   */
  onMessage(handler: (message: unknown, from: SessionInfo) => void | Promise<void>): void;
}

export interface PlatformConnection {
  stop(): Promise<void>;
}

export interface HubOptions {
  stateDir: string;
  log: Log;
  label: string;
  /** Writes an event to this session's host; false when it could not (it is then retried). */
  deliver(event: { content: string; meta: Record<string, string> }): Promise<boolean>;
  onVerdict(verdict: Verdict): void;
  /** Starts the platform connection when this process becomes the leader. */
  lead(context: LeaderContext): Promise<PlatformConnection>;
}

type ToMember =
  | { type: 'event'; seq: number; content: string; meta: Record<string, string> }
  | { type: 'verdict'; verdict: Verdict }
  | { type: 'members'; sessions: SessionInfo[]; active?: string }
  | { type: 'received'; id: number };
type ToLeader =
  | { type: 'hello'; session: SessionInfo }
  | { type: 'ack'; seq: number; delivered: boolean }
  | { type: 'message'; id: number; message: unknown };

/** The socket the leader listens on: in the state directory, or a short name when that is too long. */
export function hubAddress(stateDir: string): string {
  const hash = createHash('sha256').update(stateDir).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\openchannels-${hash}`;
  const inState = join(stateDir, 'hub.sock');
  return inState.length <= 100 ? inState : join(tmpdir(), `openchannels-${hash}.sock`);
}

const RETRY_DELIVERY_MS = 500;
const LEADER_CHECK_MS = 2000;

export class Hub {
  readonly self: SessionInfo;
  private readonly address: string;
  private leadership?: Leadership;
  private link?: Socket;
  private members: SessionInfo[] = [];
  private activeId?: string;
  private closing = false;
  /** Messages for the leader it has not confirmed: sent again to whoever leads next. */
  private readonly unconfirmed = new Map<number, unknown>();
  private nextMessageId = 1;

  private constructor(private readonly options: HubOptions) {
    this.address = hubAddress(options.stateDir);
    this.self = { id: `${process.pid}-${randomBytes(3).toString('hex')}`, label: options.label, pid: process.pid, attachedAt: Date.now() };
  }

  /** Joins the hub of a state directory, leading it if nobody does. */
  static async join(options: HubOptions): Promise<Hub> {
    const hub = new Hub(options);
    await hub.attach();
    return hub;
  }

  get isLeader(): boolean {
    return this.leadership !== undefined;
  }

  get sessions(): SessionInfo[] {
    return this.members;
  }

  /**
   * Sends a message to the leader's `onMessage` handler (in this process when it leads). A message
   * the leader has not confirmed when it goes (it died, or is being replaced) goes to the next
   * leader: nothing is lost while the connection changes hands, though a message may arrive twice.
   */
  async tellLeader(message: unknown): Promise<void> {
    if (this.leadership) {
      await this.leadership.received(message, this.self);
      return;
    }
    const id = this.nextMessageId++;
    this.unconfirmed.set(id, message);
    this.link?.write(jsonLine({ type: 'message', id, message } satisfies ToLeader));
  }

  /** Hands what the last leader did not confirm to the new one (this process, or over the new link). */
  private async resendUnconfirmed(): Promise<void> {
    for (const [id, message] of this.unconfirmed) {
      if (this.leadership) {
        this.unconfirmed.delete(id);
        await this.leadership.received(message, this.self);
      } else {
        this.link?.write(jsonLine({ type: 'message', id, message } satisfies ToLeader));
      }
    }
  }

  /** `[label] ` while several sessions share the connection, so the user knows who answers. */
  replyPrefix(): string {
    return this.members.length > 1 ? `[${this.self.label}] ` : '';
  }

  private async attach(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      try {
        this.leadership = await Leadership.start(this, this.address, this.options);
        await this.resendUnconfirmed();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
      try {
        await this.joinAsMember();
        await this.resendUnconfirmed();
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Nobody answers at the address: the leader died and left its socket file behind.
        if (code === 'ECONNREFUSED' && process.platform !== 'win32') {
          try {
            unlinkSync(this.address);
          } catch {
            // another session removed it first
          }
        } else if (code !== 'ENOENT') {
          throw err;
        }
      }
      if (attempt > 50) throw new Error(`could not join or lead the hub at ${this.address}`);
      await sleep(20 + Math.random() * 80);
    }
  }

  private joinAsMember(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.address);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.options.log(`hub connection: ${errorText(err)}`));
        this.link = socket;
        socket.write(jsonLine({ type: 'hello', session: this.self } satisfies ToLeader));
        onJsonLines(
          socket,
          (message) => void this.fromLeader(message as ToMember),
          (line) => this.options.log(`hub: ignored a malformed line: ${line.slice(0, 80)}`),
        );
        socket.once('close', () => {
          this.link = undefined;
          if (this.closing) return;
          this.options.log('the session holding the connection left; taking over or rejoining');
          // Spread the re-election so the sessions left do not all race at once.
          sleep(Math.random() * 100)
            .then(() => this.attach())
            .catch((err) => this.options.log(`could not rejoin the hub: ${errorText(err)}`));
        });
        resolve();
      });
    });
  }

  private async fromLeader(message: ToMember): Promise<void> {
    if (message.type === 'event') {
      const delivered = await this.options.deliver({ content: message.content, meta: message.meta }).catch(() => false);
      this.link?.write(jsonLine({ type: 'ack', seq: message.seq, delivered } satisfies ToLeader));
    } else if (message.type === 'verdict') {
      this.options.onVerdict(message.verdict);
    } else if (message.type === 'members') {
      this.membersChanged(message.sessions, message.active);
    } else if (message.type === 'received') {
      this.unconfirmed.delete(message.id);
    }
  }

  /** @internal the leader tells its own session about membership. */
  membersChanged(sessions: SessionInfo[], active: string | undefined): void {
    this.members = sessions;
    this.activeId = active;
  }

  get activeSession(): SessionInfo | undefined {
    return this.members.find((s) => s.id === this.activeId);
  }

  /** @internal the leader lost its address to another process: become a member. */
  async stepDown(): Promise<void> {
    const leadership = this.leadership;
    this.leadership = undefined;
    await leadership?.stop();
    if (!this.closing) await this.attach();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.link?.destroy();
    await this.leadership?.stop();
    this.leadership = undefined;
  }
}

interface MemberLink {
  info: SessionInfo;
  send(message: ToMember): void;
}

/** The leader's side: the socket, the spool, the platform connection and in-order delivery. */
class Leadership {
  private readonly links = new Map<string, MemberLink>();
  private readonly sockets = new Set<Socket>();
  /** Sessions whose last delivery failed (their host is gone or stuck): passed over while others can take events. */
  private readonly failing = new Set<string>();
  private routedId?: string;
  private inflight?: { seq: number; member: string; settle: (delivered: boolean) => void };
  private pumping = false;
  private platform?: PlatformConnection;
  private messageHandler?: (message: unknown, from: SessionInfo) => void | Promise<void>;
  private stopped = false;
  private watch?: NodeJS.Timeout;

  private constructor(
    private readonly hub: Hub,
    private readonly server: Server,
    private readonly spool: Spool,
    private readonly options: HubOptions,
    private readonly address: string,
  ) {}

  static async start(hub: Hub, address: string, options: HubOptions): Promise<Leadership> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (process.platform !== 'win32') chmodSync(address, 0o600);
    const spool = await Spool.open(join(options.stateDir, 'inbox.spool'), options.log);
    const leadership = new Leadership(hub, server, spool, options, address);
    server.on('connection', (socket) => leadership.accept(socket));
    leadership.addLink({
      info: hub.self,
      send: (message) => {
        if (message.type === 'event') {
          options
            .deliver({ content: message.content, meta: message.meta })
            .catch(() => false)
            .then((delivered) => leadership.acked(hub.self.id, message.seq, delivered));
        } else if (message.type === 'verdict') {
          options.onVerdict(message.verdict);
        } else if (message.type === 'members') {
          hub.membersChanged(message.sessions, message.active);
        }
      },
    });
    leadership.watchAddress();
    const pending = spool.undelivered().length;
    if (pending) options.log(`delivering ${pending} event(s) received before a restart`);
    try {
      leadership.platform = await options.lead(leadership.context());
    } catch (err) {
      await leadership.stop();
      throw err;
    }
    leadership.pump();
    return leadership;
  }

  private context(): LeaderContext {
    return {
      publish: async (content, meta, key) => {
        if (key && this.spool.hasSeen(key)) return false;
        await this.spool.add(content, meta, key);
        this.pump();
        return true;
      },
      verdict: (verdict) => {
        for (const link of this.links.values()) link.send({ type: 'verdict', verdict });
      },
      sessions: () => this.sessions(),
      active: () => this.active(),
      route: (sessionId) => {
        if (!this.links.has(sessionId)) return false;
        this.routedId = sessionId;
        this.announce();
        return true;
      },
      onMessage: (handler) => {
        this.messageHandler = handler;
      },
    };
  }

  /** A session's message for the platform connection. */
  async received(message: unknown, from: SessionInfo): Promise<void> {
    try {
      await this.messageHandler?.(message, from);
    } catch (err) {
      this.options.log(`could not handle a message from session ${from.label}: ${errorText(err)}`);
    }
  }

  private sessions(): SessionInfo[] {
    return [...this.links.values()].map((l) => l.info).sort((a, b) => a.attachedAt - b.attachedAt);
  }

  /** The session the user chose, else the one attached last. */
  private active(): SessionInfo | undefined {
    if (this.routedId && this.links.has(this.routedId)) return this.links.get(this.routedId)!.info;
    return this.sessions().at(-1);
  }

  /** Where the next event goes: the active session, unless it is failing and another is not. */
  private target(): SessionInfo | undefined {
    const active = this.active();
    if (!active || !this.failing.has(active.id)) return active;
    return this.sessions().reverse().find((s) => !this.failing.has(s.id)) ?? active;
  }

  private accept(socket: Socket): void {
    let id: string | undefined;
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    onJsonLines(
      socket,
      (raw) => {
        const message = raw as ToLeader;
        if (message.type === 'hello' && !id) {
          id = message.session.id;
          this.addLink({ info: message.session, send: (m) => socket.write(jsonLine(m)) });
        } else if (message.type === 'ack' && id) {
          this.acked(id, message.seq, message.delivered);
        } else if (message.type === 'message' && id) {
          const link = this.links.get(id)!;
          void this.received(message.message, link.info).then(() => link.send({ type: 'received', id: message.id }));
        }
      },
      () => socket.destroy(),
    );
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (!id || this.stopped) return;
      this.links.delete(id);
      this.failing.delete(id);
      if (this.inflight?.member === id) this.inflight.settle(false);
      this.announce();
      this.pump();
    });
  }

  private addLink(link: MemberLink): void {
    this.links.set(link.info.id, link);
    this.announce();
    this.pump();
  }

  private announce(): void {
    const sessions = this.sessions();
    const active = this.active()?.id;
    for (const link of this.links.values()) link.send({ type: 'members', sessions, active });
  }

  acked(member: string, seq: number, delivered: boolean): void {
    if (this.inflight?.member === member && this.inflight.seq === seq) this.inflight.settle(delivered);
  }

  /** Delivers spooled events in order, one at a time, each to the session active at that moment. */
  private pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    void (async () => {
      try {
        for (;;) {
          const next: SpooledEvent | undefined = this.spool.undelivered()[0];
          const target = this.target();
          if (!next || !target || this.stopped) return;
          const delivered = await new Promise<boolean>((settle) => {
            this.inflight = { seq: next.seq, member: target.id, settle };
            this.links.get(target.id)!.send({ type: 'event', seq: next.seq, content: next.content, meta: next.meta });
          });
          this.inflight = undefined;
          if (delivered) {
            this.failing.delete(target.id);
            await this.spool.done(next.seq);
          } else {
            if (!this.failing.has(target.id)) this.options.log(`session ${target.label} could not take an event; trying again`);
            this.failing.add(target.id);
            // Wait before retrying only when no other session could take it now.
            if (this.target()?.id === target.id) await sleep(RETRY_DELIVERY_MS);
          }
        }
      } catch (err) {
        this.options.log(`delivery stopped: ${errorText(err)}`);
      } finally {
        this.pumping = false;
      }
    })();
  }

  /**
   * Two sessions starting at the same instant after a crash can both take over a stale socket
   * file; the one whose socket is no longer at the address steps down.
   */
  private watchAddress(): void {
    if (process.platform === 'win32') return;
    const ours = statSync(this.address).ino;
    this.watch = setInterval(() => {
      let current: number | undefined;
      try {
        current = statSync(this.address).ino;
      } catch {
        current = undefined;
      }
      if (current !== ours && !this.stopped) {
        this.options.log('another session took over the connection; joining it');
        void this.hub.stepDown();
      }
    }, LEADER_CHECK_MS);
    this.watch.unref();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watch);
    this.inflight?.settle(false);
    await this.platform?.stop().catch((err) => this.options.log(`stopping the platform connection: ${errorText(err)}`));
    // Closing the members' connections makes them elect a new leader among themselves.
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    this.links.clear();
    await this.spool.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
