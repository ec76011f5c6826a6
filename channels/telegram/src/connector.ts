/**
 * Everything that speaks the Telegram Bot API, through grammY's `Api`: outbound actions (text in
 * chunks, quote-replies, MarkdownV2 on request, photos and documents, edits, reactions, typing,
 * button answers, file downloads) and the reading of an Update as a neutral message for the gate
 * plus the event it becomes. Telegram's quirks live here and nowhere else.
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  type ChunkMode,
  type InboundMessage,
  type OutboundFile,
  type ReplyToMode,
  chunkText,
  effectiveChunkLimit,
  ensureDir,
  errorText,
} from '@openchannels/kit';
import { Api, GrammyError, HttpError, InputFile } from 'grammy';
import type { InlineKeyboardMarkup, Message, ReactionTypeEmoji, Update, UserFromGetMe } from 'grammy/types';

/** Telegram's longest text message. */
export const MAX_TEXT = 4096;
/** The Bot API's upload limit. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Photos above this are refused by sendPhoto; they go out as documents. */
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const PHOTO_FILE = /\.(jpe?g|png|gif|webp)$/i;
/** The update kinds the channel handles; Telegram does not queue the others for us. */
export const HANDLED_UPDATES = ['message', 'callback_query'] as const;
/** How long a 429 on a send may make us wait before retrying, and how often. */
const FLOOD_WAIT_LIMIT_S = 30;
const FLOOD_RETRIES = 3;

export type BotCommand = 'start' | 'help' | 'status' | 'sessions' | 'use';
const BOT_COMMANDS: readonly string[] = ['start', 'help', 'status', 'sessions', 'use'];

export interface Button {
  text: string;
  data: string;
}

/** A user's message, read for the gate, the pipeline and the event. */
export interface TelegramMessage {
  kind: 'message';
  inbound: InboundMessage;
  messageId: number;
  /** The event body: the text or caption, or a placeholder such as `(voice message)`. */
  content: string;
  /** The event attributes: chat_id, message_id, user, user_id, ts, attachment_* when there is a file. */
  meta: Record<string, string>;
  /** The largest size of a photo: fetched only after the gate lets the message through. */
  photoFileId?: string;
  /** `/start`, `/help` or `/status` addressed to this bot: answered in DMs, never forwarded. */
  command?: BotCommand;
  /** The sender's @username, when they have one. */
  username?: string;
}

/** A press of an inline button. */
export interface ButtonPress {
  kind: 'button';
  callbackId: string;
  senderId: string;
  /** Pressed in a direct chat with the bot. */
  isDirect: boolean;
  data: string;
  /** The message the button belongs to, when Telegram still has it. */
  message?: { chatId: string; messageId: number; text: string };
}

export interface ReplySettings {
  replyToMode?: ReplyToMode;
  textChunkLimit?: number;
  chunkMode?: ChunkMode;
}

export interface ConnectorOptions {
  token: string;
  /** `https://api.telegram.org` or a compatible server, without a trailing slash. */
  apiRoot: string;
  /** Where downloads go: `<state>/inbox`. */
  inboxDir: string;
}

const MARKDOWN_HINT =
  ' (with format "markdownv2", escape each of _*[]()~`>#+-=|{}.! with a backslash where it is not formatting, or send with format "text")';

export class TelegramConnector {
  readonly api: Api;
  private me?: UserFromGetMe;

  constructor(private readonly options: ConnectorOptions) {
    this.api = new Api(options.token, { apiRoot: options.apiRoot, fetch: nodeFetch as never });
  }

  /** Who this bot is (getMe); needed before messages can be read, for mentions and replies to it. */
  async identify(signal?: AbortSignal): Promise<UserFromGetMe> {
    this.me = await this.api.getMe(apiSignal(signal));
    return this.me;
  }

  get botId(): number | undefined {
    return this.me?.id;
  }

  /** The bot's commands, offered in the "/" menu of direct chats only. */
  async registerCommands(signal?: AbortSignal): Promise<void> {
    await this.api.setMyCommands(
      [
        { command: 'start', description: 'Welcome and setup guide' },
        { command: 'help', description: 'What this bot can do' },
        { command: 'status', description: 'Check your pairing status' },
        { command: 'sessions', description: 'List the Claude Code sessions attached to this bot' },
        { command: 'use', description: 'Choose the session that receives your messages: /use 2' },
      ],
      { scope: { type: 'all_private_chats' } },
      apiSignal(signal),
    );
  }

  // ---- inbound ----

  /** Reads an update; null for what the channel ignores (edits, channel posts, polls, senderless...). */
  read(update: Update): TelegramMessage | ButtonPress | null {
    const query = update.callback_query;
    if (query) {
      if (query.data === undefined) return null;
      const message = query.message;
      return {
        kind: 'button',
        callbackId: query.id,
        senderId: String(query.from.id),
        isDirect: message?.chat.type === 'private',
        data: query.data,
        ...(message && 'text' in message && message.text !== undefined
          ? { message: { chatId: String(message.chat.id), messageId: message.message_id, text: message.text } }
          : {}),
      };
    }
    const message = update.message;
    if (!message?.from || !this.me) return null;
    const type = message.chat.type;
    if (type !== 'private' && type !== 'group' && type !== 'supergroup') return null;
    const body = describeBody(message);
    if (!body) return null;
    const from = message.from;
    const text = message.text ?? message.caption;
    const command = this.command(message);
    return {
      kind: 'message',
      inbound: {
        senderId: String(from.id),
        chatId: String(message.chat.id),
        isDirect: type === 'private',
        mentioned: this.mentionsMe(message),
        ...(text !== undefined ? { text } : {}),
      },
      messageId: message.message_id,
      content: body.content,
      meta: {
        chat_id: String(message.chat.id),
        message_id: String(message.message_id),
        user: from.username ?? String(from.id),
        user_id: String(from.id),
        ts: new Date(message.date * 1000).toISOString(),
        ...body.meta,
      },
      ...(body.photoFileId ? { photoFileId: body.photoFileId } : {}),
      ...(command ? { command } : {}),
      ...(from.username ? { username: from.username } : {}),
    };
  }

  /** An @mention of this bot (typed, or picked from the member list) or a reply to one of its messages. */
  private mentionsMe(message: Message): boolean {
    const me = this.me!;
    if (message.reply_to_message?.from?.id === me.id) return true;
    const text = message.text ?? message.caption ?? '';
    const entities = message.entities ?? message.caption_entities ?? [];
    return entities.some((entity) => {
      if (entity.type === 'text_mention') return entity.user.id === me.id;
      if (entity.type !== 'mention') return false;
      return text.slice(entity.offset, entity.offset + entity.length).toLowerCase() === `@${me.username.toLowerCase()}`;
    });
  }

  /** One of the bot's commands at the start of a text, bare or as `/status@thisbot`. */
  private command(message: Message): BotCommand | undefined {
    const entity = message.entities?.[0];
    if (!message.text || entity?.type !== 'bot_command' || entity.offset !== 0) return undefined;
    const [name, target] = message.text.slice(1, entity.length).split('@');
    if (target !== undefined && target.toLowerCase() !== this.me!.username.toLowerCase()) return undefined;
    const command = name!.toLowerCase();
    return BOT_COMMANDS.includes(command) ? (command as BotCommand) : undefined;
  }

  // ---- outbound ----

  async sendText(
    chatId: string,
    text: string,
    options: { replyTo?: number; markdown?: boolean; buttons?: Button[][] } = {},
  ): Promise<number> {
    const message = await withFloodRetry(() =>
      this.api.sendMessage(chatId, text, {
        ...(options.replyTo !== undefined ? { reply_parameters: { message_id: options.replyTo } } : {}),
        ...(options.markdown ? { parse_mode: 'MarkdownV2' as const } : {}),
        ...(options.buttons ? { reply_markup: keyboard(options.buttons) } : {}),
      }),
    );
    return message.message_id;
  }

  /**
   * Sends a reply: the text in chunks (a quote of `replyTo` on the first chunk, or on all with
   * replyToMode `all`, or none with `off`), then each file as its own message. Resolves with the
   * ids sent; a failure says how far it got.
   */
  async reply(
    chatId: string,
    reply: { text: string; replyTo?: number; files: OutboundFile[]; markdown: boolean },
    settings: ReplySettings,
  ): Promise<number[]> {
    const mode = settings.replyToMode ?? 'first';
    const quote = reply.replyTo !== undefined && mode !== 'off' ? reply.replyTo : undefined;
    // A reply of files only has no text message.
    const chunks =
      reply.text || reply.files.length === 0
        ? chunkText(reply.text, effectiveChunkLimit(settings.textChunkLimit, MAX_TEXT), settings.chunkMode)
        : [];
    const ids: number[] = [];
    try {
      for (const [index, chunk] of chunks.entries()) {
        const replyTo = mode === 'all' || index === 0 ? quote : undefined;
        ids.push(await this.sendText(chatId, chunk, { replyTo, markdown: reply.markdown }));
      }
      for (const file of reply.files) ids.push(await this.sendFile(chatId, file, quote));
    } catch (err) {
      const hint = /can't parse entities/.test(describeApiError(err)) ? MARKDOWN_HINT : '';
      throw new Error(
        `reply failed after ${ids.length} of ${chunks.length + reply.files.length} chunk(s) sent: ${describeApiError(err)}${hint}`,
      );
    }
    return ids;
  }

  /** Images go as photos (shown inline), anything else, or an image too big for a photo, as a document. */
  async sendFile(chatId: string, file: OutboundFile, replyTo?: number): Promise<number> {
    const other = replyTo !== undefined ? { reply_parameters: { message_id: replyTo } } : {};
    const asPhoto = PHOTO_FILE.test(file.name) && file.size <= MAX_PHOTO_BYTES;
    const message = await withFloodRetry<Message>(() =>
      asPhoto
        ? this.api.sendPhoto(chatId, new InputFile(file.path, file.name), other)
        : this.api.sendDocument(chatId, new InputFile(file.path, file.name), other),
    );
    return message.message_id;
  }

  async editText(
    chatId: string,
    messageId: number,
    text: string,
    options: { markdown?: boolean; buttons?: Button[][] } = {},
  ): Promise<void> {
    try {
      await withFloodRetry(() =>
        this.api.editMessageText(chatId, messageId, text, {
          ...(options.markdown ? { parse_mode: 'MarkdownV2' as const } : {}),
          ...(options.buttons ? { reply_markup: keyboard(options.buttons) } : {}),
        }),
      );
    } catch (err) {
      const hint = /can't parse entities/.test(describeApiError(err)) ? MARKDOWN_HINT : '';
      throw new Error(`${describeApiError(err)}${hint}`);
    }
  }

  /** Reacts with one emoji; Telegram accepts only the emoji of its reaction list. */
  async react(chatId: string, messageId: number, emoji: string): Promise<void> {
    try {
      await this.api.setMessageReaction(chatId, messageId, [
        { type: 'emoji', emoji: emoji as ReactionTypeEmoji['emoji'] },
      ]);
    } catch (err) {
      if (/REACTION_INVALID/.test(describeApiError(err))) {
        throw new Error(
          `Telegram does not allow ${emoji} as a reaction; use one of its reaction emoji such as 👍 👎 ❤ 🔥 👀 🎉 🙏 👌 💯`,
        );
      }
      throw new Error(describeApiError(err));
    }
  }

  /** "typing…" in the chat for about five seconds. */
  async typing(chatId: string): Promise<void> {
    await this.api.sendChatAction(chatId, 'typing');
  }

  /** Answers a button press, with a short toast when `text` is given. */
  async answerButton(callbackId: string, text?: string): Promise<void> {
    await this.api.answerCallbackQuery(callbackId, text ? { text } : {});
  }

  /**
   * Downloads a file the bot received into `<state>/inbox/<ms>-<unique id>.<ext>` and returns the
   * absolute path. The extension and id come from Telegram and are cut down to safe characters.
   */
  async download(fileId: string, signal?: AbortSignal): Promise<string> {
    const file = await this.api.getFile(fileId, apiSignal(signal)).catch((err: unknown) => {
      throw new Error(describeApiError(err));
    });
    if (!file.file_path) throw new Error('Telegram returned no file_path — file may have expired');
    const response = await fetch(`${this.options.apiRoot}/file/bot${this.options.token}/${file.file_path}`, { signal });
    if (!response.ok) throw new Error(`download failed: HTTP ${response.status}`);
    const data = Buffer.from(await response.arrayBuffer());
    const name = basename(file.file_path);
    const dot = name.lastIndexOf('.');
    const extension = (dot >= 0 ? name.slice(dot + 1) : '').replace(/[^A-Za-z0-9]/g, '') || 'bin';
    const uniqueId = (file.file_unique_id ?? '').replace(/[^A-Za-z0-9_-]/g, '') || 'dl';
    const path = join(ensureDir(this.options.inboxDir), `${Date.now()}-${uniqueId}.${extension}`);
    writeFileSync(path, data);
    return path;
  }
}

/** What a message shows when it is not plain text, and what the agent needs to fetch its file. */
function describeBody(
  message: Message,
): { content: string; meta: Record<string, string>; photoFileId?: string } | null {
  if (message.text !== undefined) return { content: message.text, meta: {} };
  const caption = message.caption;
  if (message.photo?.length) {
    return { content: caption ?? '(photo)', meta: {}, photoFileId: message.photo[message.photo.length - 1]!.file_id };
  }
  const attachment = (
    kind: string,
    file: { file_id: string; file_size?: number; mime_type?: string; file_name?: string },
    placeholder: string,
  ) => ({
    content: caption ?? placeholder,
    meta: {
      attachment_kind: kind,
      attachment_file_id: file.file_id,
      ...(file.file_size !== undefined ? { attachment_size: String(file.file_size) } : {}),
      ...(file.mime_type ? { attachment_mime: file.mime_type } : {}),
      ...(file.file_name ? { attachment_name: safeName(file.file_name) } : {}),
    },
  });
  if (message.document) {
    const name = message.document.file_name ? safeName(message.document.file_name) : 'file';
    return attachment('document', message.document, `(document: ${name})`);
  }
  if (message.voice) return attachment('voice', message.voice, '(voice message)');
  if (message.audio) {
    const title = safeName(message.audio.title ?? '') || safeName(message.audio.file_name ?? '') || 'audio';
    return attachment('audio', message.audio, `(audio: ${title})`);
  }
  if (message.video) return attachment('video', message.video, '(video)');
  // Video notes and stickers have no caption.
  if (message.video_note) return attachment('video_note', message.video_note, '(video note)');
  if (message.sticker) {
    return attachment(
      'sticker',
      message.sticker,
      message.sticker.emoji ? `(sticker ${message.sticker.emoji})` : '(sticker)',
    );
  }
  return null;
}

/** Uploader-chosen names must not break out of the event tag or forge attributes. */
function safeName(name: string): string {
  return name.replace(/[<>[\]\r\n;]/g, '_');
}

/**
 * grammY's default HTTP client on Node (node-fetch 2) recognises an abort signal by its class
 * name, which the minified bundle renames, and then fails every call. Node's own fetch is used
 * instead, with a native signal that follows grammY's.
 */
function nodeFetch(url: string | URL, init: RequestInit & { signal?: AbortSignal }): Promise<Response> {
  const grammySignal = init.signal;
  if (!grammySignal) return fetch(url, init);
  const controller = new AbortController();
  if (grammySignal.aborted) controller.abort();
  else grammySignal.addEventListener('abort', () => controller.abort(), { once: true });
  return fetch(url, { ...init, signal: controller.signal });
}

/** grammY types signals with its abort-controller shim; at run time it takes Node's own. */
type ApiSignal = Parameters<Api['getMe']>[0];
export function apiSignal(signal: AbortSignal | undefined): ApiSignal {
  return signal as unknown as ApiSignal;
}

function keyboard(rows: Button[][]): InlineKeyboardMarkup {
  return {
    inline_keyboard: rows.map((row) => row.map((button) => ({ text: button.text, callback_data: button.data }))),
  };
}

/** Telegram's own words for a failed call, or the network failure, with the token never shown. */
export function describeApiError(err: unknown): string {
  if (err instanceof GrammyError) return err.description;
  if (err instanceof HttpError) {
    const failure = err.error instanceof Error ? err.error : undefined;
    // fetch says only "fetch failed"; why is in its cause (ECONNRESET, ENOTFOUND...).
    const reason = failure?.cause instanceof Error ? failure.cause.message : undefined;
    const cause = failure ? `${failure.message}${reason ? ` (${reason})` : ''}` : String(err.error);
    // The request URL holds the token: never let it into a message.
    return `network error: ${cause.replace(/\/bot[^/\s]+/g, '/bot<token>')}`;
  }
  return errorText(err);
}

/** A send that Telegram rate-limits (429) waits the time it asks for, when that is short, and tries again. */
async function withFloodRetry<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      const wait = err instanceof GrammyError && err.error_code === 429 ? err.parameters.retry_after : undefined;
      if (wait === undefined || wait > FLOOD_WAIT_LIMIT_S || attempt > FLOOD_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }
}
