/**
 * A fake Discord for channel tests: the REST routes a bot uses (v10, JSON and multipart) and a
 * WebSocket gateway (HELLO, IDENTIFY → READY, heartbeats, RESUME) on one local port. Production
 * code reaches it through its REST root option; the gateway address is what GET /gateway/bot
 * answers, as on the real service.
 *
 * Tests act as Discord users (`dm`, `post`, `press`), store messages without dispatching them
 * (`postOffline`, as if sent while the bot was away), and inject faults: closing the gateway
 * with a close code, invalid sessions, heartbeats left unacknowledged, a revoked token, 429s
 * with retry_after.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { Mailbox } from './mailbox.js';

export interface DcUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: null;
  bot?: boolean;
}

export interface DcAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
}

export interface DcMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: DcUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: false;
  mention_everyone: boolean;
  mentions: DcUser[];
  mention_roles: string[];
  attachments: DcAttachment[];
  embeds: unknown[];
  pinned: false;
  type: 0 | 19;
  components?: unknown[];
  message_reference?: { message_id: string; channel_id: string };
  referenced_message?: DcMessage | null;
}

export interface DcChannel {
  id: string;
  /** 0 guild text, 1 DM, 11 public thread. */
  type: 0 | 1 | 11;
  guild_id?: string;
  parent_id?: string;
  name?: string;
  recipients?: DcUser[];
}

/** One REST request as the fake saw it. `route` names it with ids replaced, e.g. `POST /channels/:id/messages`. */
export interface DcCall {
  route: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  files: Array<{ name: string; size: number }>;
  /** The HTTP status the fake answered with. */
  status: number;
  result?: unknown;
}

export interface FakeDiscordOptions {
  token?: string;
  botId?: string;
  username?: string;
  /** The heartbeat interval HELLO asks for (Discord's is about 41 s). */
  heartbeatMs?: number;
}

export interface PostOptions {
  attachments?: Array<{ filename: string; data: Buffer | string; content_type?: string }>;
  /** The bot is @mentioned. */
  mentionBot?: boolean;
  /** Roles @mentioned (ids). */
  mentionRoles?: string[];
  /** A reply to this message (of the same channel). */
  replyTo?: string;
}

export const GUILD_ID = '900000000000000001';
const HEARTBEAT_MS = 41_250;
const DISCORD_EPOCH_MS = 1_420_070_400_000;
const MAX_CONTENT = 2000;

class RestFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

interface GatewaySession {
  id: string;
  seq: number;
  socket?: WebSocket;
}

export class FakeDiscord {
  readonly token: string;
  readonly bot: DcUser;
  /** Every REST call, in order. */
  readonly calls = new Mailbox<DcCall>();
  /** Gateway opcodes the client sent (2 identify, 6 resume, ...), in order. */
  readonly gatewayOps = new Mailbox<number>();
  readonly channels = new Map<string, DcChannel>();
  /** The roles the bot holds in the guild. */
  botRoles: string[] = [];
  private readonly messages = new Map<string, DcMessage[]>();
  private readonly files = new Map<string, Buffer>();
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly sockets = new Set<WebSocket>();
  /** Connections whose heartbeats go unanswered. */
  private readonly unacknowledged = new WeakSet<WebSocket>();
  /** Interaction id → the message whose button was pressed. */
  private readonly interactions = new Map<string, string>();
  private current?: GatewaySession;
  private lastId = 0n;
  private tokenRevoked = false;
  private rateLimits: Array<{ route: string; retryAfter: number }> = [];
  private readonly wss: WebSocketServer;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeDiscordOptions,
  ) {
    this.token = options.token ?? 'MTIzNDU2.fake.token';
    this.bot = this.user(options.botId ?? '500000000000000001', options.username ?? 'claude-test', true);
    this.wss = new WebSocketServer({ server });
    this.wss.on('connection', (socket) => this.accept(socket));
    server.on('request', (req, res) => void this.request(req, res));
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeDiscord(server, options);
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What DISCORD_API_ROOT should be. */
  get apiRoot(): string {
    return `${this.base}/api`;
  }

  user(id: string, username: string, bot = false): DcUser {
    return { id, username, discriminator: '0', global_name: username, avatar: null, ...(bot ? { bot: true } : {}) };
  }

  /** Resolves once a gateway session is identified (or resumed) and open: dispatches reach the bot from then on. */
  async connected(timeoutMs = 8000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.current?.socket?.readyState !== WebSocket.OPEN) {
      if (Date.now() > end) throw new Error(`no gateway session within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The DM channel between the bot and a user, created on first use (its id differs from the user's). */
  dmChannel(user: DcUser): DcChannel {
    for (const channel of this.channels.values()) {
      if (channel.type === 1 && channel.recipients?.[0]?.id === user.id) return channel;
    }
    const channel: DcChannel = { id: this.snowflake(), type: 1, recipients: [user] };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** A text channel of the one fake guild. */
  guildChannel(name: string): DcChannel {
    const channel: DcChannel = { id: this.snowflake(), type: 0, guild_id: GUILD_ID, name };
    this.channels.set(channel.id, channel);
    return channel;
  }

  thread(parent: DcChannel, name: string, id = this.snowflake()): DcChannel {
    const channel: DcChannel = { id, type: 11, guild_id: GUILD_ID, parent_id: parent.id, name };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** A user writes to the bot in their DM; the message is dispatched on the gateway. */
  dm(user: DcUser, content: string, options: PostOptions = {}): DcMessage {
    return this.post(this.dmChannel(user), user, content, options);
  }

  /** A user writes in a channel; the message is dispatched on the gateway. */
  post(channel: DcChannel, author: DcUser, content: string, options: PostOptions = {}): DcMessage {
    const message = this.store(channel, author, content, options);
    this.dispatch('MESSAGE_CREATE', channel.type === 1 ? { ...message, channel_type: 1 } : message);
    return message;
  }

  /** A message Discord keeps but the bot is not told about (sent while it was offline). */
  postOffline(channel: DcChannel, author: DcUser, content: string): DcMessage {
    return this.store(channel, author, content, {});
  }

  /** A user presses a button on a message: an INTERACTION_CREATE of a message component. */
  press(user: DcUser, message: DcMessage, customId: string): void {
    const channel = this.channels.get(message.channel_id)!;
    const id = this.snowflake();
    this.interactions.set(id, message.id);
    const who = channel.type === 1 ? { user } : { member: { user, roles: [] }, guild_id: GUILD_ID };
    this.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.bot.id,
      type: 3,
      token: `interaction-token-${id}`,
      version: 1,
      channel_id: channel.id,
      channel: { id: channel.id, type: channel.type },
      message,
      data: { custom_id: customId, component_type: 2 },
      ...who,
    });
  }

  /** The messages of a channel, oldest first. */
  history(channel: DcChannel | string): DcMessage[] {
    return this.messages.get(typeof channel === 'string' ? channel : channel.id) ?? [];
  }

  /** Waits for a REST call whose route matches. */
  nextCall(route: string, match: (call: DcCall) => boolean = () => true, timeoutMs = 5000): Promise<DcCall> {
    return this.calls.next((call) => call.route === route && match(call), timeoutMs, `${route} call`);
  }

  callsTo(route: string): DcCall[] {
    return this.calls.received.filter((call) => call.route === route);
  }

  /** Messages the bot sent to a channel, by content. */
  sentTexts(channel: DcChannel | string): string[] {
    return this.history(channel)
      .filter((m) => m.author.id === this.bot.id)
      .map((m) => m.content);
  }

  /** The next call to `route` is answered 429 with `retry_after` seconds. */
  rateLimitNext(route: string, retryAfterSeconds: number): void {
    this.rateLimits.push({ route, retryAfter: retryAfterSeconds });
  }

  /** Closes the gateway connection with a close code (4000: resumable; 4004: authentication failed). */
  disconnect(code = 4000): void {
    this.current?.socket?.close(code, 'closed by the fake');
  }

  /** Sends INVALID_SESSION (op 9, not resumable) and forgets the session. */
  invalidateSession(): void {
    const session = this.current;
    if (!session?.socket) return;
    this.sessions.delete(session.id);
    session.socket.send(JSON.stringify({ op: 9, d: false }));
  }

  /** The current connection's heartbeats go unacknowledged from now on (a zombie connection); later connections are answered. */
  stopAcknowledgingHeartbeats(): void {
    if (this.current?.socket) this.unacknowledged.add(this.current.socket);
  }

  /** The token stops working: REST answers 401 and the gateway closes with 4004. */
  revokeToken(): void {
    this.tokenRevoked = true;
    this.current?.socket?.close(4004, 'Authentication failed.');
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Ids as Discord makes them: milliseconds since 2015 in the high bits, so they grow with time. */
  private snowflake(): string {
    const fromClock = BigInt(Date.now() - DISCORD_EPOCH_MS) << 22n;
    this.lastId = fromClock > this.lastId ? fromClock : this.lastId + 1n;
    return String(this.lastId);
  }

  private store(channel: DcChannel, author: DcUser, content: string, options: PostOptions): DcMessage {
    const id = this.snowflake();
    const attachments = (options.attachments ?? []).map((a) => {
      const attachmentId = this.snowflake();
      const data = Buffer.from(a.data);
      const url = `${this.base}/attachments/${channel.id}/${attachmentId}/${encodeURIComponent(a.filename)}`;
      this.files.set(url, data);
      return {
        id: attachmentId,
        filename: a.filename,
        size: data.length,
        url,
        proxy_url: url,
        ...(a.content_type ? { content_type: a.content_type } : {}),
      };
    });
    const referenced = options.replyTo ? this.history(channel).find((m) => m.id === options.replyTo) : undefined;
    const message: DcMessage = {
      id,
      channel_id: channel.id,
      ...(channel.guild_id ? { guild_id: channel.guild_id } : {}),
      author,
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: options.mentionBot ? [this.bot] : [],
      mention_roles: options.mentionRoles ?? [],
      attachments,
      embeds: [],
      pinned: false,
      type: referenced ? 19 : 0,
      ...(referenced
        ? { message_reference: { message_id: referenced.id, channel_id: channel.id }, referenced_message: referenced }
        : {}),
    };
    const list = this.messages.get(channel.id) ?? [];
    list.push(message);
    this.messages.set(channel.id, list);
    return message;
  }

  // ---- gateway ----

  private accept(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.options.heartbeatMs ?? HEARTBEAT_MS } }));
    socket.on('message', (raw) => {
      const payload = JSON.parse(String(raw)) as { op: number; d: any };
      this.gatewayOps.push(payload.op);
      if (payload.op === 1) {
        if (!this.unacknowledged.has(socket)) socket.send(JSON.stringify({ op: 11 }));
      }
      else if (payload.op === 2) this.identify(socket, payload.d);
      else if (payload.op === 6) this.resume(socket, payload.d);
    });
  }

  private identify(socket: WebSocket, d: { token: string }): void {
    if (this.tokenRevoked || d.token !== this.token) {
      socket.close(4004, 'Authentication failed.');
      return;
    }
    const session: GatewaySession = { id: `session-${this.snowflake()}`, seq: 0, socket };
    this.sessions.set(session.id, session);
    this.current = session;
    this.send(session, 'READY', {
      v: 10,
      user: this.bot,
      guilds: [],
      session_id: session.id,
      resume_gateway_url: this.base.replace('http', 'ws'),
      shard: [0, 1],
      application: { id: this.bot.id, flags: 0 },
    });
  }

  private resume(socket: WebSocket, d: { token: string; session_id: string }): void {
    const session = this.sessions.get(d.session_id);
    if (this.tokenRevoked || d.token !== this.token) {
      socket.close(4004, 'Authentication failed.');
      return;
    }
    if (!session) {
      socket.send(JSON.stringify({ op: 9, d: false }));
      return;
    }
    session.socket = socket;
    this.current = session;
    this.send(session, 'RESUMED', {});
  }

  private dispatch(t: string, d: unknown): void {
    if (this.current?.socket?.readyState === WebSocket.OPEN) this.send(this.current, t, d);
  }

  private send(session: GatewaySession, t: string, d: unknown): void {
    session.socket?.send(JSON.stringify({ op: 0, t, s: ++session.seq, d }));
  }

  // ---- REST ----

  private async request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (url.pathname.startsWith('/attachments/')) {
      const data = this.files.get(`${this.base}${url.pathname}`);
      res.writeHead(data ? 200 : 404).end(data);
      return;
    }
    const path = url.pathname.replace(/^\/api\/v10/, '');
    const route = `${req.method} ${path.replace(/\/\d{6,}/g, '/:id').replace(/\/reactions\/[^/]+\/@me$/, '/reactions/:emoji/@me').replace(/\/interactions\/:id\/[^/]+\/callback$/, '/interactions/:id/:token/callback')}`;
    const call: DcCall = { route, path, query: url.searchParams, body: {}, files: [], status: 200 };
    try {
      await this.parseBody(req, raw, call);
      const limit = this.rateLimits.findIndex((r) => r.route === route);
      if (limit >= 0) {
        const { retryAfter } = this.rateLimits.splice(limit, 1)[0]!;
        throw new RestFailure(
          429,
          { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
          { 'retry-after': String(retryAfter), 'x-ratelimit-scope': 'user' },
        );
      }
      // Interaction callbacks are authorised by the interaction's own token, not the bot's.
      const needsToken = !route.startsWith('POST /interactions/');
      if (this.tokenRevoked || (needsToken && req.headers.authorization !== `Bot ${this.token}`)) {
        throw new RestFailure(401, { message: '401: Unauthorized', code: 0 });
      }
      call.result = this.handle(route, path, call);
      call.status = call.result === undefined ? 204 : 200;
      if (call.result === undefined) res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(call.result));
    } catch (err) {
      const failure = err instanceof RestFailure ? err : new RestFailure(500, { message: String(err), code: 0 });
      call.status = failure.status;
      call.result = failure.body;
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers }).end(JSON.stringify(failure.body));
    }
    this.calls.push(call);
  }

  private async parseBody(req: IncomingMessage, raw: Buffer, call: DcCall): Promise<void> {
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
      for (const [name, value] of form) {
        if (name === 'payload_json') call.body = JSON.parse(String(value));
        else if (typeof value !== 'string') call.files.push({ name: value.name, size: value.size });
      }
    } else if (raw.length > 0) {
      call.body = JSON.parse(raw.toString('utf8'));
    }
  }

  private handle(route: string, path: string, call: DcCall): unknown {
    const ids = path.match(/\d{6,}/g) ?? [];
    const channel = (): DcChannel => {
      const found = this.channels.get(ids[0]!);
      if (!found) throw new RestFailure(404, { message: 'Unknown Channel', code: 10003 });
      return found;
    };
    const message = (): DcMessage => {
      const found = this.history(channel()).find((m) => m.id === ids[1]);
      if (!found) throw new RestFailure(404, { message: 'Unknown Message', code: 10008 });
      return found;
    };
    switch (route) {
      case 'GET /gateway/bot':
        return {
          url: this.base.replace('http', 'ws'),
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
        };
      case 'GET /users/@me':
        return this.bot;
      case 'POST /users/@me/channels': {
        const recipient = String(call.body.recipient_id);
        const known = [...this.channels.values()].find((c) => c.type === 1 && c.recipients?.[0]?.id === recipient);
        return known ?? this.dmChannel(this.user(recipient, `user${recipient.slice(-4)}`));
      }
      case 'GET /channels/:id':
        return channel();
      case 'POST /channels/:id/threads':
      case 'POST /channels/:id/messages/:id/threads': {
        const parent = channel();
        if (parent.type !== 0) throw new RestFailure(400, { message: 'Cannot execute action on this channel type', code: 50024 });
        const name = String(call.body.name ?? '');
        if (name.length < 1 || name.length > 100) throw new RestFailure(400, { message: 'Invalid Form Body: name', code: 50035 });
        // A thread started from a message takes the message's id, as on Discord.
        return this.thread(parent, name, ids[1] ? message().id : undefined);
      }
      case 'GET /guilds/:id/threads/active':
        return { threads: [...this.channels.values()].filter((c) => c.type === 11 && c.guild_id === ids[0]), members: [] };
      case 'GET /guilds/:id/members/:id':
        if (ids[1] !== this.bot.id) throw new RestFailure(404, { message: 'Unknown Member', code: 10007 });
        return { user: this.bot, roles: this.botRoles, joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 };
      case 'POST /channels/:id/typing':
        channel();
        return undefined;
      case 'GET /channels/:id/messages':
        return this.page(channel(), call.query);
      case 'GET /channels/:id/messages/:id':
        return message();
      case 'POST /channels/:id/messages':
        return this.create(channel(), call);
      case 'PATCH /channels/:id/messages/:id': {
        const target = message();
        if (target.author.id !== this.bot.id) {
          throw new RestFailure(403, { message: 'Cannot edit a message authored by another user', code: 50005 });
        }
        if (typeof call.body.content === 'string') target.content = this.checkedContent(call.body.content);
        if (call.body.components !== undefined) target.components = call.body.components as unknown[];
        target.edited_timestamp = new Date().toISOString();
        return target;
      }
      case 'PUT /channels/:id/messages/:id/reactions/:emoji/@me':
        message();
        call.body = { emoji: decodeURIComponent(path.split('/reactions/')[1]!.replace(/\/@me$/, '')) };
        return undefined;
      case 'POST /interactions/:id/:token/callback': {
        const data = (call.body.data ?? {}) as { content?: string; components?: unknown[] };
        // Type 7 updates the message the button is on.
        if (call.body.type === 7) {
          const messageId = this.interactions.get(ids[0]!);
          const pressed = [...this.messages.values()].flat().find((m) => m.id === messageId);
          if (pressed) {
            if (data.content !== undefined) pressed.content = data.content;
            if (data.components !== undefined) pressed.components = data.components;
          }
        }
        return undefined;
      }
      default:
        throw new RestFailure(404, { message: `404: Not Found (${route})`, code: 0 });
    }
  }

  private create(channel: DcChannel, call: DcCall): DcMessage {
    const content = this.checkedContent(String(call.body.content ?? ''));
    if (!content && call.files.length === 0) throw new RestFailure(400, { message: 'Cannot send an empty message', code: 50006 });
    const reference = call.body.message_reference as { message_id?: string; fail_if_not_exists?: boolean } | undefined;
    const exists = reference?.message_id && this.history(channel).some((m) => m.id === reference.message_id);
    if (reference?.message_id && !exists && reference.fail_if_not_exists !== false) {
      throw new RestFailure(400, { message: 'Invalid Form Body', code: 50035 });
    }
    const message = this.store(channel, this.bot, content, {
      attachments: call.files.map((f) => ({ filename: f.name, data: Buffer.alloc(Math.min(f.size, 16)) })),
      ...(exists ? { replyTo: reference!.message_id } : {}),
    });
    if (call.body.components) message.components = call.body.components as unknown[];
    return message;
  }

  private checkedContent(content: string): string {
    if (content.length > MAX_CONTENT) {
      throw new RestFailure(400, { message: 'Invalid Form Body: content must be 2000 or fewer in length', code: 50035 });
    }
    return content;
  }

  /** Discord's paging: newest first; `after` gives the oldest `limit` after that id. */
  private page(channel: DcChannel, query: URLSearchParams): DcMessage[] {
    const limit = Math.min(Number(query.get('limit') ?? 50), 100);
    let list = this.history(channel);
    const after = query.get('after');
    const before = query.get('before');
    if (after) list = list.filter((m) => BigInt(m.id) > BigInt(after)).slice(0, limit);
    else if (before) list = list.filter((m) => BigInt(m.id) < BigInt(before)).slice(-limit);
    else list = list.slice(-limit);
    // As on Discord, messages fetched over REST do not name their guild (gateway ones do).
    return [...list].reverse().map(({ guild_id: _guild, ...message }) => message as DcMessage);
  }
}
