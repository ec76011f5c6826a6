/**
 * Discord over REST (@discordjs/rest, without discord.js's caches), which every session uses for
 * its tools: how a raw message becomes a gate input and an event, where a chat id leads (a DM
 * with whom, a thread under which channel), and sending with Discord's limits (2,000 characters,
 * 10 files of 25 MB). The gateway connection, which only the leading session opens, is gateway.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  API,
  type APIActionRowComponent,
  type APIChannel,
  type APIComponentInMessageActionRow,
  type APIMessage,
  ChannelType,
} from '@discordjs/core/http-only';
import { REST, RESTEvents } from '@discordjs/rest';
import { type InboundMessage, type Log, type OutboundFile, type OutboundRoute, ensureDir, errorText } from '@openchannels/kit';

export const MAX_TEXT = 2000;
export const MAX_FILES = 10;
export const MAX_FILE_BYTES = 25 * 1024 * 1024;
/** Ids of our recent messages: a reply to one counts as a mention. */
const RECENT_SENT = 200;
/**
 * Discord shows "typing…" for about 10 s, or until the bot's next message there. Refreshing it
 * no more often than this keeps a burst of messages from spending the REST budget (50 calls/s).
 */
const TYPING_REFRESH_MS = 8_000;
/** How long the bot's roles in a guild are taken as known (a role mention counts as a mention). */
const ROLES_TTL_MS = 60_000;

export interface ReadMessage {
  inbound: InboundMessage;
  content: string;
  meta: Record<string, string>;
}

export interface ConnectorOptions {
  token: string;
  apiRoot: string;
  inboxDir: string;
  log: Log;
}

export class DiscordConnector {
  readonly rest: REST;
  readonly api: API;
  /** Known channels: their kind and parent never change, so one lookup each is enough. */
  private readonly channels = new Map<string, APIChannel>();
  private readonly recentSent: string[] = [];
  private readonly rolesByGuild = new Map<string, { roles: string[]; at: number }>();
  private readonly typingSince = new Map<string, number>();
  botId = '';

  constructor(private readonly options: ConnectorOptions) {
    this.rest = new REST({ version: '10', api: options.apiRoot }).setToken(options.token);
    this.api = new API(this.rest);
  }

  /** The bot's user id: known from READY on the leader, asked for elsewhere (tools run in every session). */
  async ownId(): Promise<string> {
    if (!this.botId) this.botId = (await this.api.users.getCurrent()).id;
    return this.botId;
  }

  /** Reports each 429 Discord answers; the REST client waits out retry_after and retries by itself. */
  onRateLimited(report: (text: string) => void): void {
    // An unexpected 429 (no bucket known beforehand) is told only in the client's debug output.
    this.rest.on(RESTEvents.Debug, (text) => {
      if (!text.includes('Encountered unexpected 429')) return;
      const field = (name: string) => new RegExp(`${name}\\s*: (.*)`).exec(text)?.[1]?.trim() ?? '?';
      const retryMs = Number.parseInt(field('Retry After'), 10);
      report(`rate limited on ${field('Method')} ${field('Bucket')}: retrying in ${(retryMs / 1000).toFixed(1)}s`);
    });
  }

  /** A channel seen in a listing, so that it need not be fetched again. */
  learn(channel: APIChannel): void {
    this.channels.set(channel.id, channel);
  }

  async channel(id: string): Promise<APIChannel> {
    const known = this.channels.get(id);
    if (known) return known;
    const channel = await this.api.channels.get(id);
    this.channels.set(id, channel);
    return channel;
  }

  /**
   * What the outbound gate needs to know about a chat id: whom a DM is with, or the channel a
   * thread belongs to (its `groups` key).
   */
  async route(chatId: string): Promise<OutboundRoute> {
    let channel: APIChannel;
    try {
      channel = await this.channel(chatId);
    } catch {
      throw new Error(`channel ${chatId} not found or not text-based`);
    }
    if (channel.type === ChannelType.DM) return { dmWith: channel.recipients?.[0]?.id ?? '' };
    if (isThread(channel)) return { groupKey: channel.parent_id ?? chatId };
    if (channel.type === ChannelType.GroupDM) throw new Error(`channel ${chatId} not found or not text-based`);
    return {};
  }

  /** A raw MESSAGE_CREATE as the gate and the agent see it; undefined for bots (ourselves included). */
  async read(message: APIMessage & { guild_id?: string }): Promise<ReadMessage | undefined> {
    if (message.author.bot || message.webhook_id) return undefined;
    const isDirect = !message.guild_id;
    let groupKey: string | undefined;
    if (!isDirect) {
      const channel = await this.channel(message.channel_id);
      if (isThread(channel) && channel.parent_id) groupKey = channel.parent_id;
    } else {
      // A DM message names its channel only: remember whom it is with for the outbound gate.
      this.channels.set(message.channel_id, {
        id: message.channel_id,
        type: ChannelType.DM,
        recipients: [message.author],
      } as APIChannel);
    }
    const mentioned =
      message.mention_everyone ||
      message.mentions.some((user) => user.id === this.botId) ||
      (message.message_reference?.message_id !== undefined &&
        (this.recentSent.includes(message.message_reference.message_id) ||
          message.referenced_message?.author.id === this.botId)) ||
      (message.guild_id !== undefined &&
        message.mention_roles.length > 0 &&
        (await this.rolesIn(message.guild_id)).some((role) => message.mention_roles.includes(role)));
    const attachments = message.attachments.map(
      (a) => `${safeName(a.filename)} (${a.content_type ?? 'unknown'}, ${(a.size / 1024).toFixed(0)}KB)`,
    );
    const meta: Record<string, string> = {
      chat_id: message.channel_id,
      message_id: message.id,
      user: message.author.username,
      user_id: message.author.id,
      ts: new Date(message.timestamp).toISOString(),
    };
    if (attachments.length > 0) {
      meta.attachment_count = String(attachments.length);
      meta.attachments = attachments.join('; ');
    }
    return {
      inbound: {
        senderId: message.author.id,
        chatId: message.channel_id,
        isDirect,
        ...(groupKey ? { groupKey } : {}),
        mentioned,
        text: message.content,
      },
      content: message.content || (attachments.length > 0 ? '(attachment)' : ''),
      meta,
    };
  }

  /** Shows "typing…" in a chat unless it is showing already. */
  typing(chatId: string): void {
    const since = this.typingSince.get(chatId);
    if (since !== undefined && Date.now() - since < TYPING_REFRESH_MS) return;
    this.typingSince.set(chatId, Date.now());
    this.api.channels.showTyping(chatId).catch(() => this.typingSince.delete(chatId));
  }

  /** Sends text in chunks, files on the first one; returns the ids sent. */
  async send(chatId: string, chunks: string[], options: { files?: OutboundFile[]; replyTo?: (index: number) => string | undefined } = {}): Promise<string[]> {
    const ids: string[] = [];
    for (const [index, content] of chunks.entries()) {
      const replyTo = options.replyTo?.(index);
      const files = index === 0 ? (options.files ?? []) : [];
      const sent = await this.api.channels.createMessage(chatId, {
        content,
        ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}),
        ...(files.length > 0 ? { files: files.map((f) => ({ name: f.name, data: readFileSync(f.path) })) } : {}),
      });
      this.remember(chatId, sent.id);
      ids.push(sent.id);
    }
    return ids;
  }

  async sendText(
    chatId: string,
    content: string,
    extra: { components?: APIActionRowComponent<APIComponentInMessageActionRow>[]; replyTo?: string } = {},
  ): Promise<APIMessage> {
    const sent = await this.api.channels.createMessage(chatId, {
      content,
      ...(extra.components ? { components: extra.components } : {}),
      ...(extra.replyTo ? { message_reference: { message_id: extra.replyTo, fail_if_not_exists: false } } : {}),
    });
    this.remember(chatId, sent.id);
    return sent;
  }

  /** A public thread in a server channel, from one of its messages or on its own; archived after a day without messages. */
  async startThread(channelId: string, name: string, messageId?: string): Promise<APIChannel & { name: string }> {
    const thread = await this.api.channels.createThread(
      channelId,
      { name, auto_archive_duration: 1440, ...(messageId ? {} : { type: ChannelType.PublicThread }) },
      messageId,
    );
    this.learn(thread);
    return thread as APIChannel & { name: string };
  }

  /** The DM channel with a user (Discord creates it on first use). */
  async dmChannelOf(userId: string): Promise<string> {
    const channel = await this.api.users.createDM(userId);
    this.channels.set(channel.id, channel);
    return channel.id;
  }

  /** Downloads a message's attachments into the inbox; returns one description line each. */
  async download(chatId: string, messageId: string): Promise<string[]> {
    const message = await this.api.channels.getMessage(chatId, messageId);
    const lines: string[] = [];
    for (const attachment of message.attachments) {
      if (attachment.size > MAX_FILE_BYTES) {
        throw new Error(`attachment too large: ${(attachment.size / 1024 / 1024).toFixed(1)}MB, max 25MB`);
      }
      const response = await fetch(attachment.url);
      if (!response.ok) throw new Error(`attachment download failed: HTTP ${response.status}`);
      const data = Buffer.from(await response.arrayBuffer());
      const ext = attachment.filename.includes('.')
        ? attachment.filename.slice(attachment.filename.lastIndexOf('.') + 1).replace(/[^a-zA-Z0-9]/g, '') || 'bin'
        : 'bin';
      ensureDir(this.options.inboxDir);
      const path = join(this.options.inboxDir, `${Date.now()}-${attachment.id}.${ext}`);
      writeFileSync(path, data);
      lines.push(
        `  ${path}  (${safeName(attachment.filename)}, ${attachment.content_type ?? 'unknown'}, ${(data.length / 1024).toFixed(0)}KB)`,
      );
    }
    return lines;
  }

  /**
   * The bot's roles in a guild: mentioning one (often the role Discord made for the bot, which
   * the @ menu offers beside the bot itself) counts as mentioning the bot.
   */
  private async rolesIn(guildId: string): Promise<string[]> {
    const known = this.rolesByGuild.get(guildId);
    if (known && Date.now() - known.at < ROLES_TTL_MS) return known.roles;
    let roles: string[] = [];
    try {
      roles = (await this.api.guilds.getMember(guildId, await this.ownId())).roles;
    } catch (err) {
      this.options.log(`could not look up the bot's roles in guild ${guildId}: ${errorText(err)}`);
    }
    this.rolesByGuild.set(guildId, { roles, at: Date.now() });
    return roles;
  }

  /** A message of ours: a reply to it is a mention, and it ends "typing…" in its chat. */
  private remember(chatId: string, id: string): void {
    this.typingSince.delete(chatId);
    this.recentSent.push(id);
    if (this.recentSent.length > RECENT_SENT) this.recentSent.shift();
  }
}

function isThread(channel: APIChannel): channel is APIChannel & { parent_id?: string | null } {
  return (
    channel.type === ChannelType.PublicThread ||
    channel.type === ChannelType.PrivateThread ||
    channel.type === ChannelType.AnnouncementThread
  );
}

/** Attachment names go into a tag attribute list separated by `; `: no brackets, separators or newlines. */
export function safeName(name: string): string {
  return name.replace(/[[\]\r\n;]/g, '_');
}

export function describeError(err: unknown): string {
  return errorText(err);
}
