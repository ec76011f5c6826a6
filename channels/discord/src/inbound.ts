/**
 * What happens to each message and button press the gateway (or catch-up) hands over: the DM
 * text commands /sessions and /use, then the kit's ChatInbound (the sender gate, pairing replies
 * as a quote of the stranger's message, typed permission answers acknowledged with ✅ / ❌, typing
 * and ack reaction, then the event handed to `deliver`). Attachments are only described; the
 * agent downloads them on demand.
 *
 * Items are handled one at a time, in arrival order, so events and cursors keep Discord's order.
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
import type { APIMessage, APIMessageComponentInteraction } from '@discordjs/core/http-only';
import { type DiscordConnector, describeError } from './connector.js';
import type { Cursors } from './cursors.js';
import { promptPress } from './permissions.js';

export interface InboundOptions {
  connector: DiscordConnector;
  access: AccessStore;
  prompts: PromptBook;
  cursors: Cursors;
  /** Hands an accepted message over as an event; `key` (the message id) recognises one that comes twice. */
  deliver(content: string, meta: Record<string, string>, key: string): Promise<void>;
  verdict: VerdictSink;
  sessions: SessionSwitch;
  log: Log;
}

export class InboundPipeline {
  private queue: Promise<void> = Promise.resolve();
  private readonly chat: ChatInbound;

  constructor(private readonly options: InboundOptions) {
    this.chat = new ChatInbound(options);
  }

  /** Queues a message behind those before it; resolves once it is handled. */
  message(message: APIMessage & { guild_id?: string }): Promise<void> {
    return this.enqueue(() => this.handle(message), 'handleInbound');
  }

  /**
   * Runs a catch-up as one item of the queue: messages the gateway dispatches meanwhile wait
   * behind it, so older messages fetched over REST are not overtaken by newer live ones.
   */
  catchUp(run: (handle: (message: APIMessage & { guild_id?: string }) => Promise<void>) => Promise<void>): Promise<void> {
    return this.enqueue(() => run((message) => this.handle(message)), 'catch-up');
  }

  press(interaction: APIMessageComponentInteraction): Promise<void> {
    const { press, answer } = promptPress(this.options.connector, interaction);
    return this.enqueue(() => this.options.prompts.press(press, answer, this.options.verdict), 'button press');
  }

  private enqueue(work: () => Promise<void>, what: string): Promise<void> {
    this.queue = this.queue.then(work).catch((err) => this.options.log(`${what} failed: ${describeError(err)}`));
    return this.queue;
  }

  /**
   * Handles a message, then moves its chat's cursor past it — whatever the gate decided, so a
   * catch-up never fetches it again; not when delivering failed.
   */
  private async handle(message: APIMessage & { guild_id?: string }): Promise<void> {
    await this.process(message);
    this.options.cursors.advance(message.channel_id, message.id);
  }

  private async process(message: APIMessage & { guild_id?: string }): Promise<void> {
    const { connector, access } = this.options;
    const item = await connector.read(message);
    if (!item) return;
    const { inbound } = item;
    const command = inbound.isDirect ? /^\/(sessions|use)\b/.exec(inbound.text ?? '')?.[1] : undefined;
    // Which session reads your messages is for paired users only; anyone else meets the gate.
    const state = access.load();
    if (command && state.dmPolicy !== 'disabled' && state.allowFrom.includes(inbound.senderId)) {
      await this.answer(inbound.chatId, answerSessionCommand(command as 'sessions' | 'use', inbound.text ?? '', this.options.sessions));
      return;
    }
    await this.chat.admit(inbound, {
      replyWithPairing: async (text) => void (await connector.sendText(inbound.chatId, text, { replyTo: message.id })),
      acknowledgeVerdict: (behavior) => connector.api.channels.addMessageReaction(inbound.chatId, message.id, behavior === 'allow' ? '✅' : '❌'),
      showTyping: () => connector.typing(inbound.chatId),
      react: (emoji) => connector.api.channels.addMessageReaction(inbound.chatId, message.id, emoji),
      deliver: () => this.options.deliver(item.content, item.meta, message.id),
    });
  }

  private async answer(chatId: string, text: string): Promise<void> {
    await this.options.connector.sendText(chatId, text).catch((err) => this.options.log(`command answer failed: ${describeError(err)}`));
  }
}
