/**
 * What happens to each update Telegram delivers: button presses on permission prompts, the
 * DM-only bot commands, then the kit's ChatInbound (the sender gate, pairing replies, typed
 * permission answers acknowledged with 👍 / 👎, typing and ack reaction) and, for a message let
 * through, the photo fetched into the inbox before the event is handed to `deliver`.
 *
 * Nothing slow stands between one message and the next: voice notes, documents and videos are
 * only described (the agent downloads them on demand); a photo download is bounded in time and
 * its failure only costs the message its image_path.
 */
import {
  type AccessStore,
  ChatInbound,
  type Log,
  type PromptBook,
  type SessionSwitch,
  type VerdictSink,
  answerSessionCommand,
} from '@openchannels/kit';
import type { Update } from 'grammy/types';
import { type BotCommand, type TelegramConnector, type TelegramMessage, describeApiError } from './connector.js';
import { promptPress } from './permissions.js';

const PHOTO_DOWNLOAD_TIMEOUT_MS = 30_000;
/** Telegram's reaction list has no ✅ or ❌: a typed verdict is acknowledged with these. */
const VERDICT_REACTIONS = { allow: '👍', deny: '👎' } as const;

export interface InboundOptions {
  connector: TelegramConnector;
  access: AccessStore;
  prompts: PromptBook;
  /**
   * Hands an accepted message over as an event. The update counts as handled once this resolves;
   * when it throws, the update is not confirmed to Telegram and comes again. `key` names the
   * Telegram update (`<bot id>:<update id>`), for recognising one that comes twice.
   */
  deliver(content: string, meta: Record<string, string>, key: string): Promise<void>;
  /** A permission answer from a user allowed to give one. */
  verdict: VerdictSink;
  /** The sessions sharing this bot, for /sessions and /use. */
  sessions: SessionSwitch;
  log: Log;
}

export class InboundPipeline {
  private readonly chat: ChatInbound;

  constructor(private readonly options: InboundOptions) {
    this.chat = new ChatInbound(options);
  }

  /** Handles updates one after another, in Telegram's order. */
  async handleUpdates(updates: Update[], signal?: AbortSignal): Promise<void> {
    for (const update of updates) await this.handle(update, signal);
  }

  async handle(update: Update, signal?: AbortSignal): Promise<void> {
    const { connector, prompts, verdict } = this.options;
    const item = connector.read(update);
    if (!item) return;
    if (item.kind === 'button') {
      const { press, answer } = promptPress(connector, item);
      await prompts.press(press, answer, verdict).catch((err) => this.failed('button press', err));
      return;
    }
    if (item.command) {
      await this.answerCommand(item, item.command);
      return;
    }
    const { chatId } = item.inbound;
    await this.chat.admit(item.inbound, {
      replyWithPairing: async (text) => void (await connector.sendText(chatId, text)),
      acknowledgeVerdict: (behavior) => connector.react(chatId, item.messageId, VERDICT_REACTIONS[behavior]),
      showTyping: () => void connector.typing(chatId).catch(() => {}),
      react: (emoji) => connector.react(chatId, item.messageId, emoji),
      deliver: async () => {
        const meta = { ...item.meta };
        if (item.photoFileId) {
          // Only now, past the gate: anyone can send a photo to a bot.
          const timeout = AbortSignal.timeout(PHOTO_DOWNLOAD_TIMEOUT_MS);
          const photoSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
          try {
            meta.image_path = await connector.download(item.photoFileId, photoSignal);
          } catch (err) {
            this.options.log(`photo download failed: ${describeApiError(err)}`);
          }
        }
        await this.options.deliver(item.content, meta, `${connector.botId}:${update.update_id}`);
      },
    });
  }

  /**
   * The bot's own commands, never forwarded. They answer only in DMs (in a group, /status would
   * show a pending code to everyone) and only whom the policy would let through: under
   * `allowlist` strangers learn nothing, not even that the bot is alive.
   */
  private async answerCommand(item: TelegramMessage, command: BotCommand): Promise<void> {
    if (!item.inbound.isDirect) return;
    const access = this.options.access.load();
    const { senderId, chatId } = item.inbound;
    const allowlisted = access.allowFrom.includes(senderId);
    if (access.dmPolicy === 'disabled' || (access.dmPolicy === 'allowlist' && !allowlisted)) return;
    let text: string;
    if (command === 'sessions' || command === 'use') {
      // Which session reads your messages is for paired users only.
      if (!allowlisted) return;
      text = answerSessionCommand(command, item.inbound.text ?? '', this.options.sessions);
    } else if (command === 'start') {
      text =
        'This bot bridges Telegram to a Claude Code session.\n\nTo pair:\n' +
        "1. DM me anything — you'll get a 6-char code\n2. In Claude Code: /telegram:access pair <code>\n\n" +
        'After that, DMs here reach that session.';
    } else if (command === 'help') {
      text =
        'Messages you send here route to a paired Claude Code session. Text and photos are forwarded; ' +
        'replies and reactions come back.\n\n/start — pairing instructions\n/status — check your pairing state\n' +
        '/sessions — the Claude Code sessions attached\n/use <n> — choose the one that receives your messages';
    } else {
      const now = Date.now();
      const pending = Object.entries(access.pending).find(([, p]) => p.senderId === senderId && p.expiresAt >= now);
      if (allowlisted) text = `Paired as ${item.username ? `@${item.username}` : senderId}.`;
      else if (pending) text = `Pending pairing — run in Claude Code:\n\n/telegram:access pair ${pending[0]}`;
      else text = 'Not paired. Send me a message to get a pairing code.';
    }
    await this.options.connector.sendText(chatId, text).catch((err) => this.failed(`/${command} answer`, err));
  }

  private failed(what: string, err: unknown): void {
    this.options.log(`${what} failed: ${describeApiError(err)}`);
  }
}
