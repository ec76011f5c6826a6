/**
 * A fake Telegram Bot API on loopback that speaks the real HTTP protocol, so a bot built on any
 * client library (grammY here) runs against it unchanged: `/bot<token>/<method>` with JSON,
 * form or multipart bodies (and query strings), `{ok, result}` / `{ok: false, error_code,
 * description, parameters}` answers, real long polling with `offset` confirmation, 409 when a
 * second poller takes over, and file downloads from `/file/bot<token>/<path>`.
 *
 * The test plays Telegram's users: it injects messages and button presses, reads every call the
 * bot made, and makes chosen calls fail (5xx, 429 with retry_after, 409, 401, dropped connection,
 * delay). Validation mirrors Telegram where a bot can get it wrong: unknown chats, empty or
 * over-long text, MarkdownV2 with unescaped reserved characters, reactions outside Telegram's
 * list, edits of messages the bot did not send.
 *
 * One HTTP server can hold several bots (`anotherBot()`), each with its own token and state, as
 * Telegram does; a request with an unknown token is answered 401.
 */
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Mailbox } from './mailbox.js';

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
}

export interface TgChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  username?: string;
  first_name?: string;
}

export interface TgEntity {
  type: string;
  offset: number;
  length: number;
  user?: TgUser;
}

export interface TgFile {
  file_id: string;
  file_unique_id: string;
  file_size?: number;
}

export interface TgPhotoSize extends TgFile {
  width: number;
  height: number;
}

export interface TgMessage {
  message_id: number;
  date: number;
  chat: TgChat;
  from?: TgUser;
  text?: string;
  entities?: TgEntity[];
  caption?: string;
  caption_entities?: TgEntity[];
  photo?: TgPhotoSize[];
  document?: TgFile & { file_name?: string; mime_type?: string };
  voice?: TgFile & { duration: number; mime_type?: string };
  audio?: TgFile & { duration: number; title?: string; file_name?: string; mime_type?: string };
  video?: TgFile & { width: number; height: number; duration: number; mime_type?: string };
  video_note?: TgFile & { length: number; duration: number };
  sticker?: TgFile & { width: number; height: number; type: string; emoji?: string };
  reply_to_message?: TgMessage;
  reply_markup?: { inline_keyboard: Array<Array<{ text: string; callback_data?: string }>> };
  edit_date?: number;
  [field: string]: unknown;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message?: TgMessage;
  chat_instance: string;
  data?: string;
}

export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  edited_message?: TgMessage;
  callback_query?: TgCallbackQuery;
  [kind: string]: unknown;
}

/** A file the bot uploaded (sendPhoto, sendDocument). */
export interface UploadedFile {
  name: string;
  data: Buffer;
}

/** One Bot API call the bot made, with its parameters as Telegram would read them. */
export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  /** Uploaded files by field name (`photo`, `document`), `attach://` references resolved. */
  files: Record<string, UploadedFile>;
  /** What Telegram answered: the result, or the error description. */
  result?: unknown;
  error?: string;
}

/** A file Telegram holds, downloadable through getFile; without `file_path` it has expired. */
export interface StoredFile extends TgFile {
  file_path?: string;
  data: Buffer;
}

/** What a chosen call does instead of its normal answer. */
export type Fault =
  { status: number; description?: string; retryAfter?: number } | { drop: true } | { delayMs: number };

/** What a test injects as a user's message; entities for @mentions and /commands are added as Telegram does. */
export interface MessageInput {
  text?: string;
  caption?: string;
  entities?: TgEntity[];
  caption_entities?: TgEntity[];
  photo?: TgPhotoSize[];
  document?: TgMessage['document'];
  voice?: TgMessage['voice'];
  audio?: TgMessage['audio'];
  video?: TgMessage['video'];
  video_note?: TgMessage['video_note'];
  sticker?: TgMessage['sticker'];
  /** The message this one quotes. */
  replyTo?: TgMessage;
  [field: string]: unknown;
}

export interface FakeBotOptions {
  username?: string;
  firstName?: string;
  id?: number;
}

const CONFLICT_POLLER =
  'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
const CONFLICT_WEBHOOK =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const MAX_TEXT = 4096;
const MARKDOWN_V2_RESERVED = /(?<!\\)[.!\-=+#|{}()>]/;
/** The emoji a bot may react with (ReactionTypeEmoji in the Bot API). */
const TELEGRAM_REACTIONS: ReadonlySet<string> = new Set(
  (
    '👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 ' +
    '🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡'
  ).split(' '),
);
const CHAT_ACTIONS = new Set(
  (
    'typing upload_photo record_video upload_video record_voice upload_voice ' +
    'upload_document choose_sticker find_location record_video_note upload_video_note'
  ).split(' '),
);

/** A Bot API error: the HTTP status and Telegram's JSON body. */
class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(description);
  }
}

const badRequest = (what: string) => new ApiFailure(400, `Bad Request: ${what}`);

/** The HTTP side, shared by every bot of one fake. */
class TelegramHttp {
  readonly bots = new Map<string, FakeTelegram>();
  private readonly sockets = new Set<Socket>();
  apiRoot = '';

  constructor(private readonly server: Server) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req, res) => void this.route(req, res));
  }

  static async listen(): Promise<TelegramHttp> {
    const http = new TelegramHttp(createServer());
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    http.apiRoot = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    return http;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const api = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    const bot = this.bots.get(decodeURIComponent((api ?? file)?.[1] ?? ''));
    if (!bot) {
      req.resume();
      sendJson(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    if (file) {
      req.resume();
      bot.serveFile(decodeURIComponent(file[2]!), res);
      return;
    }
    if (!api) {
      req.resume();
      sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    let call: ApiCall;
    try {
      call = await readCall(api[2]!, req, url);
    } catch (err) {
      sendJson(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${(err as Error).message}` });
      return;
    }
    await bot.handle(call, res);
  }

  async close(): Promise<void> {
    for (const bot of this.bots.values()) bot.releasePoll();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export class FakeTelegram {
  readonly token: string;
  /** The bot itself, as getMe returns it. */
  readonly me: TgUser;
  /** Every API call the bot made, in order. */
  readonly calls = new Mailbox<ApiCall>();
  /** Update ids the bot confirmed (by polling with a higher offset), in order. */
  readonly confirmed = new Mailbox<number>();
  private readonly callsByMethod = new Map<string, Mailbox<ApiCall>>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly pending: TgUpdate[] = [];
  private readonly chats = new Map<number, TgChat>();
  private readonly messages = new Map<string, TgMessage>();
  private readonly lastMessageId = new Map<number, number>();
  private readonly files = new Map<string, StoredFile>();
  private readonly callbackQueries = new Set<string>();
  private allowedUpdates: string[] = [];
  private poll?: { res: ServerResponse; limit: number; timer: NodeJS.Timeout };
  private nextUpdateId = 1;
  private nextFileNumber = 1;
  /** The webhook set with setWebhook (or by a test); while there is one, getUpdates answers 409. */
  webhookUrl = '';

  private constructor(
    private readonly http: TelegramHttp,
    options: FakeBotOptions,
  ) {
    const id = options.id ?? 7_000_000_000 + http.bots.size;
    this.token = `${id}:AA${randomBytes(16).toString('hex')}`;
    this.me = {
      id,
      is_bot: true,
      first_name: options.firstName ?? 'Test Bot',
      username: options.username ?? `test${http.bots.size}_bot`,
    };
    http.bots.set(this.token, this);
  }

  /** Starts a fake Bot API server with one bot. */
  static async start(options: FakeBotOptions = {}): Promise<FakeTelegram> {
    return new FakeTelegram(await TelegramHttp.listen(), options);
  }

  /** A second bot on the same server (its own token, chats and updates). */
  anotherBot(options: FakeBotOptions = {}): FakeTelegram {
    return new FakeTelegram(this.http, options);
  }

  /** `http://127.0.0.1:<port>`: the client's API root, for requests and file downloads. */
  get apiRoot(): string {
    return this.http.apiRoot;
  }

  /** Closes the server (every bot on it). */
  close(): Promise<void> {
    return this.http.close();
  }

  // ---- the test's side: users, chats, messages, presses, files, faults ----

  user(id: number, username?: string, firstName = username ?? `User ${id}`): TgUser {
    return { id, is_bot: false, first_name: firstName, ...(username ? { username } : {}) };
  }

  /** A supergroup the bot is a member of (ids of supergroups are `-100…`). */
  group(id: number, title = `Group ${id}`): TgChat {
    const chat: TgChat = { id, type: 'supergroup', title };
    this.chats.set(id, chat);
    return chat;
  }

  /**
   * The direct chat with a user, who has thereby opened the bot: Telegram lets a bot write only to
   * users who did (else "chat not found").
   */
  chatWith(user: TgUser): TgChat {
    const chat: TgChat = {
      id: user.id,
      type: 'private',
      first_name: user.first_name,
      ...(user.username ? { username: user.username } : {}),
    };
    this.chats.set(chat.id, chat);
    return chat;
  }

  /** The user sends the bot a direct message. */
  dm(from: TgUser, input: string | MessageInput): TgMessage {
    return this.post(this.chatWith(from), from, input);
  }

  /** The user writes in a chat (a group from `group()`, or any chat object). */
  post(chat: TgChat, from: TgUser | undefined, input: string | MessageInput): TgMessage {
    this.chats.set(chat.id, chat);
    const { replyTo, ...fields } = typeof input === 'string' ? { text: input } : input;
    const message: TgMessage = { message_id: this.nextMessageId(chat.id), date: nowSeconds(), chat, ...fields };
    if (from) message.from = from;
    if (replyTo) message.reply_to_message = replyTo;
    if (message.text !== undefined && !message.entities) {
      const entities = detectEntities(message.text);
      if (entities.length) message.entities = entities;
    }
    if (message.caption !== undefined && !message.caption_entities) {
      const entities = detectEntities(message.caption).filter((e) => e.type !== 'bot_command');
      if (entities.length) message.caption_entities = entities;
    }
    this.store(message);
    this.inject({ message });
    return message;
  }

  /** The user presses an inline button of a message the bot sent. */
  press(from: TgUser, message: TgMessage, data: string): TgCallbackQuery {
    const query: TgCallbackQuery = {
      id: randomBytes(8).toString('hex'),
      from,
      message: this.messages.get(key(message.chat.id, message.message_id)) ?? message,
      chat_instance: String(message.chat.id),
      data,
    };
    this.callbackQueries.add(query.id);
    this.inject({ callback_query: query });
    return query;
  }

  /** Queues any update (update_id assigned here, from 1 upwards) and wakes a waiting poll. */
  inject(fields: Omit<TgUpdate, 'update_id'>): TgUpdate {
    const update = { update_id: this.nextUpdateId++, ...fields } as TgUpdate;
    this.pending.push(update);
    this.answerPoll();
    return update;
  }

  /** Stores a file on "Telegram's servers". `filePath: null` makes one getFile cannot serve (expired). */
  addFile(data: Buffer | string, filePath: string | null = `documents/file_${this.nextFileNumber}.dat`): StoredFile {
    const n = this.nextFileNumber++;
    const bytes = Buffer.from(data);
    const file: StoredFile = {
      file_id: `BQACAgI${n}${randomBytes(6).toString('hex')}`,
      file_unique_id: `AgAD${n}x`,
      file_size: bytes.length,
      data: bytes,
      ...(filePath === null ? {} : { file_path: filePath }),
    };
    this.files.set(file.file_id, file);
    return file;
  }

  /** A photo as Telegram sends it: several sizes, the largest (last) holding `data`. */
  photo(data: Buffer | string, extension = 'jpg'): TgPhotoSize[] {
    const small = this.addFile(Buffer.from(data).subarray(0, 16), `photos/file_${this.nextFileNumber}.${extension}`);
    const large = this.addFile(data, `photos/file_${this.nextFileNumber}.${extension}`);
    return [
      { ...fileFields(small), width: 90, height: 60 },
      { ...fileFields(large), width: 1280, height: 853 },
    ];
  }

  /** Fields for a document, voice, audio... message: a stored file's id, unique id and size. */
  fileFields(file: StoredFile): TgFile {
    return fileFields(file);
  }

  /** The next `times` calls of `method` (or `*` for any) answer with `fault` instead. */
  fail(method: string, fault: Fault, times = 1): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(method, queue);
  }

  /** Waits for the bot's next call of `method` that matches. */
  nextCall(method: string, match: (call: ApiCall) => boolean = () => true, timeoutMs = 5000): Promise<ApiCall> {
    return this.mailbox(method).next(match, timeoutMs, `${method} call`);
  }

  /**
   * The first call of `method` that matches, made so far or still to come, whatever earlier
   * `nextCall`s took: for calls made concurrently, in no set order (e.g. one prompt per user).
   */
  findCall(method: string, match: (call: ApiCall) => boolean, timeoutMs = 5000): Promise<ApiCall> {
    const made = this.callsTo(method).find(match);
    return made ? Promise.resolve(made) : this.nextCall(method, match, timeoutMs);
  }

  /** Every call of `method` so far. */
  callsTo(method: string): ApiCall[] {
    return this.mailbox(method).received;
  }

  /** A message as it is now (after edits), or undefined when deleted or never sent. */
  message(chatId: number | string, messageId: number | string): TgMessage | undefined {
    return this.messages.get(key(Number(chatId), Number(messageId)));
  }

  /** Every call as it arrives, before any fault delays its answer (calls are recorded once answered). */
  readonly arrivals = new Mailbox<ApiCall>();

  /** How many polls were ended with 409 because another getUpdates came in while they waited. */
  pollerConflicts = 0;

  /** Updates not yet confirmed by the bot. */
  get unconfirmed(): TgUpdate[] {
    return [...this.pending];
  }

  /**
   * Resolves once the bot has confirmed every update injected so far: it polled past them, which
   * a bot that confirms only what it handled does after handling them.
   */
  async allConfirmed(timeoutMs = 5000): Promise<void> {
    const last = this.nextUpdateId - 1;
    const deadline = Date.now() + timeoutMs;
    while (this.pending.some((update) => update.update_id <= last)) {
      if (Date.now() > deadline) {
        throw new Error(
          `updates ${this.pending.map((u) => u.update_id).join(', ')} not confirmed within ${timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // ---- the bot's side ----

  /** @internal */
  async handle(call: ApiCall, res: ServerResponse): Promise<void> {
    this.arrivals.push(call);
    const fault = this.faults.get(call.method)?.shift() ?? this.faults.get('*')?.shift();
    if (fault && 'drop' in fault) {
      this.record(call, 'connection dropped');
      res.socket?.destroy();
      return;
    }
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault && 'status' in fault) {
      const description = fault.description ?? defaultDescription(fault.status, fault.retryAfter);
      const parameters = fault.retryAfter === undefined ? undefined : { retry_after: fault.retryAfter };
      this.record(call, description);
      answerFailure(res, new ApiFailure(fault.status, description, parameters));
      return;
    }
    try {
      if (call.method === 'getUpdates') {
        this.record(call);
        this.getUpdates(call.params, res);
        return;
      }
      call.result = this.perform(call);
      this.record(call);
      sendJson(res, 200, { ok: true, result: call.result });
    } catch (err) {
      const failure =
        err instanceof ApiFailure ? err : new ApiFailure(500, `Internal Server Error: ${(err as Error).message}`);
      if (call.method !== 'getUpdates') this.record(call, failure.description);
      answerFailure(res, failure);
    }
  }

  private record(call: ApiCall, error?: string): void {
    if (error !== undefined) call.error = error;
    this.calls.push(call);
    this.mailbox(call.method).push(call);
  }

  /** @internal */
  serveFile(path: string, res: ServerResponse): void {
    const file = [...this.files.values()].find((f) => f.file_path === path);
    if (!file) {
      sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.data.length });
    res.end(file.data);
  }

  /** @internal answers a held poll so the server can close. */
  releasePoll(): void {
    if (!this.poll) return;
    clearTimeout(this.poll.timer);
    sendJson(this.poll.res, 200, { ok: true, result: [] });
    this.poll = undefined;
  }

  private mailbox(method: string): Mailbox<ApiCall> {
    let box = this.callsByMethod.get(method);
    if (!box) this.callsByMethod.set(method, (box = new Mailbox<ApiCall>()));
    return box;
  }

  private getUpdates(params: Record<string, unknown>, res: ServerResponse): void {
    if (this.webhookUrl) throw new ApiFailure(409, CONFLICT_WEBHOOK);
    // Telegram serves one poller per token: the request already waiting is ended with 409.
    if (this.poll) {
      this.pollerConflicts++;
      clearTimeout(this.poll.timer);
      answerFailure(this.poll.res, new ApiFailure(409, CONFLICT_POLLER));
      this.poll = undefined;
    }
    const offset = Number(params.offset ?? 0);
    if (offset > 0) {
      while (this.pending.length && this.pending[0]!.update_id < offset)
        this.confirmed.push(this.pending.shift()!.update_id);
    }
    const allowed = params.allowed_updates;
    if (Array.isArray(allowed)) this.allowedUpdates = allowed.map(String);
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)));
    const timeout = Math.max(0, Number(params.timeout ?? 0));
    if (this.ready(limit).length || timeout === 0) {
      sendJson(res, 200, { ok: true, result: this.ready(limit) });
      return;
    }
    const timer = setTimeout(() => this.answerPoll(true), timeout * 1000);
    this.poll = { res, limit, timer };
    res.on('close', () => {
      if (this.poll?.res === res) {
        clearTimeout(timer);
        this.poll = undefined;
      }
    });
  }

  /** The updates a poll may return now; kinds the bot did not ask for are dropped, as Telegram never queues them. */
  private ready(limit: number): TgUpdate[] {
    if (this.allowedUpdates.length) {
      for (let i = this.pending.length - 1; i >= 0; i--) {
        const kind = Object.keys(this.pending[i]!).find((k) => k !== 'update_id')!;
        if (!this.allowedUpdates.includes(kind)) this.pending.splice(i, 1);
      }
    }
    return this.pending.slice(0, limit);
  }

  private answerPoll(timedOut = false): void {
    const poll = this.poll;
    if (!poll) return;
    const updates = this.ready(poll.limit);
    if (!updates.length && !timedOut) return;
    clearTimeout(poll.timer);
    this.poll = undefined;
    sendJson(poll.res, 200, { ok: true, result: updates });
  }

  private perform({ method, params, files }: ApiCall): unknown {
    switch (method) {
      case 'getMe':
        return {
          ...this.me,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        };
      case 'deleteWebhook':
        this.webhookUrl = '';
        if (params.drop_pending_updates === true || params.drop_pending_updates === 'true') this.pending.length = 0;
        return true;
      case 'setWebhook':
        this.webhookUrl = String(params.url ?? '');
        return true;
      case 'sendMessage': {
        const text = requiredText(params.text);
        if (text.length > MAX_TEXT) throw badRequest('message is too long');
        checkMarkdown(params.parse_mode, text);
        return this.botMessage(params, { text });
      }
      case 'sendPhoto':
      case 'sendDocument': {
        const field = method === 'sendPhoto' ? 'photo' : 'document';
        const upload = files[field];
        if (!upload) throw badRequest(`there is no ${field} in the request`);
        const file = this.addFile(upload.data, `${field}s/file_${this.nextFileNumber}${extensionOf(upload.name)}`);
        const media =
          field === 'photo'
            ? { photo: [{ ...fileFields(file), width: 800, height: 600 }] }
            : { document: { ...fileFields(file), file_name: upload.name } };
        return this.botMessage(params, media);
      }
      case 'editMessageText': {
        const message = this.ownMessage(params);
        const text = requiredText(params.text);
        checkMarkdown(params.parse_mode, text);
        const markup = params.reply_markup as TgMessage['reply_markup'];
        if (message.text === text && JSON.stringify(message.reply_markup) === JSON.stringify(markup)) {
          throw badRequest(
            'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
          );
        }
        // An edit without reply_markup removes the inline keyboard.
        const edited: TgMessage = { ...message, text, edit_date: nowSeconds() };
        if (markup) edited.reply_markup = markup;
        else delete edited.reply_markup;
        this.store(edited);
        return edited;
      }
      case 'editMessageReplyMarkup': {
        const message = this.ownMessage(params);
        const edited: TgMessage = { ...message, edit_date: nowSeconds() };
        if (params.reply_markup) edited.reply_markup = params.reply_markup as TgMessage['reply_markup'];
        else delete edited.reply_markup;
        this.store(edited);
        return edited;
      }
      case 'deleteMessage': {
        const found = this.messages.delete(key(Number(params.chat_id), Number(params.message_id)));
        if (!found) throw badRequest('message to delete not found');
        return true;
      }
      case 'setMessageReaction': {
        this.anyMessage(params);
        const reactions = (params.reaction ?? []) as Array<{ type: string; emoji?: string }>;
        for (const reaction of reactions) {
          if (reaction.type !== 'emoji' || !TELEGRAM_REACTIONS.has(reaction.emoji ?? ''))
            throw badRequest('REACTION_INVALID');
        }
        return true;
      }
      case 'sendChatAction':
        this.knownChat(params.chat_id);
        if (!CHAT_ACTIONS.has(String(params.action))) throw badRequest('wrong parameter action in request');
        return true;
      case 'answerCallbackQuery':
        if (!this.callbackQueries.has(String(params.callback_query_id))) {
          throw badRequest('query is too old and response timeout expired or query ID is invalid');
        }
        return true;
      case 'getFile': {
        const file = this.files.get(String(params.file_id ?? ''));
        if (!file) throw badRequest('invalid file_id');
        const { data: _data, ...result } = file;
        return result;
      }
      case 'setMyCommands':
        return true;
      default:
        throw new ApiFailure(404, 'Not Found: method not found');
    }
  }

  private botMessage(params: Record<string, unknown>, content: Partial<TgMessage>): TgMessage {
    const chat = this.knownChat(params.chat_id);
    const message: TgMessage = {
      message_id: this.nextMessageId(chat.id),
      from: this.me,
      chat,
      date: nowSeconds(),
      ...content,
    };
    const replyTo =
      (params.reply_parameters as { message_id?: unknown } | undefined)?.message_id ?? params.reply_to_message_id;
    if (replyTo !== undefined) {
      const quoted = this.messages.get(key(chat.id, Number(replyTo)));
      if (!quoted) throw badRequest('message to be replied not found');
      message.reply_to_message = quoted;
    }
    if (params.reply_markup) message.reply_markup = params.reply_markup as TgMessage['reply_markup'];
    this.store(message);
    return message;
  }

  private knownChat(chatId: unknown): TgChat {
    const chat = this.chats.get(Number(chatId));
    if (!chat) throw badRequest('chat not found');
    return chat;
  }

  private anyMessage(params: Record<string, unknown>): TgMessage {
    this.knownChat(params.chat_id);
    const message = this.messages.get(key(Number(params.chat_id), Number(params.message_id)));
    if (!message) throw badRequest('message to edit not found');
    return message;
  }

  private ownMessage(params: Record<string, unknown>): TgMessage {
    const message = this.anyMessage(params);
    if (message.from?.id !== this.me.id) throw badRequest("message can't be edited");
    return message;
  }

  private nextMessageId(chatId: number): number {
    const id = (this.lastMessageId.get(chatId) ?? 0) + 1;
    this.lastMessageId.set(chatId, id);
    return id;
  }

  private store(message: TgMessage): void {
    this.messages.set(key(message.chat.id, message.message_id), message);
  }
}

function key(chatId: number, messageId: number): string {
  return `${chatId}:${messageId}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function fileFields(file: StoredFile): TgFile {
  return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size };
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot) : '';
}

function requiredText(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined ? '' : String(value);
  if (!text.trim()) throw badRequest('message text is empty');
  return text;
}

function checkMarkdown(parseMode: unknown, text: string): void {
  if (parseMode !== 'MarkdownV2') return;
  const reserved = MARKDOWN_V2_RESERVED.exec(text);
  if (reserved) {
    throw badRequest(
      `can't parse entities: Character '${reserved[0]}' is reserved and must be escaped with the preceding '\\'`,
    );
  }
}

/** Entities Telegram attaches to a user's text: @mentions and a leading /command. */
function detectEntities(text: string): TgEntity[] {
  const entities: TgEntity[] = [];
  for (const match of text.matchAll(/(^|\s)(\/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?|@[A-Za-z0-9_]{3,})/g)) {
    const offset = match.index! + match[1]!.length;
    const word = match[2]!;
    if (word.startsWith('/') && offset !== 0) continue;
    entities.push({ type: word.startsWith('/') ? 'bot_command' : 'mention', offset, length: word.length });
  }
  return entities;
}

function defaultDescription(status: number, retryAfter?: number): string {
  if (status === 401) return 'Unauthorized';
  if (status === 409) return CONFLICT_POLLER;
  if (status === 429) return `Too Many Requests: retry after ${retryAfter ?? 1}`;
  if (status >= 500) return status === 502 ? 'Bad Gateway' : 'Internal Server Error';
  return 'Bad Request';
}

function answerFailure(res: ServerResponse, failure: ApiFailure): void {
  sendJson(res, failure.status, {
    ok: false,
    error_code: failure.status,
    description: failure.description,
    ...(failure.parameters ? { parameters: failure.parameters } : {}),
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/** Reads a Bot API call from the query string and a JSON, form or multipart body. */
async function readCall(method: string, req: IncomingMessage, url: URL): Promise<ApiCall> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const params: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) params[name] = jsonish(value);
  const files: Record<string, UploadedFile> = {};
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (body.length && type.startsWith('application/json')) {
    Object.assign(params, JSON.parse(body.toString('utf8')) as Record<string, unknown>);
  } else if (body.length && type.startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) params[name] = jsonish(value);
  } else if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary=("?)([^";]+)\1/i.exec(req.headers['content-type'] ?? '')?.[2];
    if (!boundary) throw new Error('multipart body without a boundary');
    const uploads: Record<string, UploadedFile> = {};
    for (const part of parseMultipart(body, boundary)) {
      if (part.filename !== undefined) uploads[part.name] = { name: part.filename, data: part.data };
      else params[part.name] = jsonish(part.data.toString('utf8'));
    }
    // A file is either sent under its field's name or referenced from it as attach://<part>.
    for (const [name, value] of Object.entries(params)) {
      const attached = typeof value === 'string' && value.startsWith('attach://') ? uploads[value.slice(9)] : undefined;
      if (attached) files[name] = attached;
    }
    for (const [name, upload] of Object.entries(uploads)) if (!(name in params)) files[name] = upload;
  }
  return { method, params, files };
}

/** Form values hold JSON for objects and arrays (reply_markup, allowed_updates...). */
function jsonish(value: string): unknown {
  if (!/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/**
 * A lenient multipart/form-data reader. Node's own (`Response.formData()`) rejects what grammY
 * sends (`content-disposition:form-data;name="x";filename=a b.png`, no spaces, unquoted file
 * names), which Telegram accepts.
 */
function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    let chunk = body.subarray(start + delimiter.length, next);
    if (chunk.subarray(0, 2).toString() === '\r\n') chunk = chunk.subarray(2);
    if (chunk.subarray(-2).toString() === '\r\n') chunk = chunk.subarray(0, -2);
    const headerEnd = chunk.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = chunk.subarray(0, headerEnd).toString('utf8');
      const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
      const name = /\bname="([^"]*)"|\bname=([^;\s]+)/i.exec(disposition);
      const filename = /\bfilename="([^"]*)"|\bfilename=([^;\r\n]+)/i.exec(disposition);
      if (name) {
        parts.push({
          name: name[1] ?? name[2]!,
          ...(filename ? { filename: (filename[1] ?? filename[2]!).trim() } : {}),
          data: Buffer.from(chunk.subarray(headerEnd + 4)),
        });
      }
    }
    start = next;
  }
  return parts;
}
