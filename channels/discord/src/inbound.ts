/**
 * What happens to each message and button press the gateway (or catch-up) hands over: the
 * sender gate (pairing replies, silent drops), the DM text commands /sessions and /use, typed
 * permission answers (`yes <id>` from an allowlisted user in their DM), and for a message let
 * through: typing indicator, ack reaction, then the event handed to `deliver`. Attachments are
 * only described; the agent downloads them on demand.
 *
 * Items are handled one at a time, in arrival order, so events and cursors keep Discord's order.
 */
import {
  type AccessStore,
  type Log,
  type PromptBook,
  type SessionSwitch,
  type VerdictSink,
  answerSessionCommand,
  parseVerdict,
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

  constructor(private readonly options: InboundOptions) {}

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
    const decision = access.gate(inbound);
    if (decision.action === 'drop') return;
    if (decision.action === 'pair') {
      await connector
        .sendText(inbound.chatId, decision.text, { replyTo: message.id })
        .catch((err) => this.options.log(`failed to send pairing code: ${describeError(err)}`));
      return;
    }
    const parsed = parseVerdict(inbound.text ?? '');
    if (parsed && access.mayAnswerPermission(inbound.senderId, inbound.isDirect)) {
      await this.options.verdict(parsed.request_id, parsed.behavior);
      connector.api.channels
        .addMessageReaction(inbound.chatId, message.id, parsed.behavior === 'allow' ? '✅' : '❌')
        .catch((err) => this.options.log(`verdict reaction failed: ${describeError(err)}`));
      await this.options.prompts.settle(parsed.request_id, parsed.behavior);
      return;
    }
    connector.typing(inbound.chatId);
    const ack = decision.access.ackReaction;
    if (ack) connector.api.channels.addMessageReaction(inbound.chatId, message.id, ack).catch(() => {});
    await this.options.deliver(item.content, item.meta, message.id);
  }

  private async answer(chatId: string, text: string): Promise<void> {
    await this.options.connector.sendText(chatId, text).catch((err) => this.options.log(`command answer failed: ${describeError(err)}`));
  }
}
