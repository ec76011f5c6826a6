/**
 * What every chat channel does with a message its platform read, once it is not one of the
 * platform's own commands, in the reference's order: the sender gate (drop it, or answer a
 * stranger with a pairing code); a typed permission answer (`yes abcde` from an allowlisted user in
 * their DM), passed on, acknowledged and settled on every prompt, never chat; and for a message
 * let through, "typing…" and the ack reaction before the event is handed over. Each platform says
 * how it does each step.
 */
import type { AccessStore, InboundMessage } from './access.js';
import { type Behavior, parseVerdict } from './contract.js';
import { type Log, errorText } from './log.js';
import type { PromptBook, VerdictSink } from './prompt-book.js';

export interface ChatMessageSteps {
  /** Answers a stranger (in their DM) with the pairing text. */
  replyWithPairing(text: string): Promise<void>;
  /** Acknowledges a typed permission answer on the message, e.g. with a reaction. */
  acknowledgeVerdict(behavior: Behavior): Promise<void>;
  /** Shows "typing…" in the chat. Failures are the platform's to ignore. */
  showTyping(): void;
  /** Reacts with the configured ack emoji. */
  react(emoji: string): Promise<void>;
  /** Hands the event over; when it throws, the message counts as not handled. */
  deliver(): Promise<void>;
}

export interface ChatInboundContext {
  access: AccessStore;
  prompts: PromptBook;
  verdict: VerdictSink;
  log: Log;
}

export class ChatInbound {
  /** Ack emoji the platform refused: said once each, or a bad setting would fill the log. */
  private readonly refusedAcks = new Set<string>();

  constructor(private readonly context: ChatInboundContext) {}

  async admit(message: InboundMessage, steps: ChatMessageSteps): Promise<void> {
    const { access, prompts, verdict, log } = this.context;
    const decision = access.gate(message);
    if (decision.action === 'drop') return;
    if (decision.action === 'pair') {
      await steps.replyWithPairing(decision.text).catch((err) => log(`failed to send pairing code: ${errorText(err)}`));
      return;
    }
    const typed = parseVerdict(message.text ?? '');
    if (typed && access.mayAnswerPermission(message.senderId, message.isDirect)) {
      await verdict(typed.request_id, typed.behavior);
      steps.acknowledgeVerdict(typed.behavior).catch((err) => log(`verdict reaction failed: ${errorText(err)}`));
      await prompts.settle(typed.request_id, typed.behavior);
      return;
    }
    steps.showTyping();
    const ack = decision.access.ackReaction;
    if (ack) {
      steps.react(ack).catch((err) => {
        if (this.refusedAcks.has(ack)) return;
        this.refusedAcks.add(ack);
        log(`ackReaction ${ack} failed: ${errorText(err)}`);
      });
    }
    await steps.deliver();
  }
}
