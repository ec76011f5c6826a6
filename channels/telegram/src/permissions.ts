/**
 * Permission prompts on Telegram: a compact message with See more / ✅ Allow / ❌ Deny buttons in
 * the DM of every allowlisted user, the buttons' answers, and the prompts rewritten to show the
 * outcome once a verdict is in (from a button or a typed `yes <id>`).
 */
import {
  type AccessStore,
  type Behavior,
  type Log,
  type PermissionRequest,
  REQUEST_ID_PATTERN,
} from '@openchannels/kit';
import { type Button, type ButtonPress, MAX_TEXT, type TelegramConnector, describeApiError } from './connector.js';

const BUTTON_DATA = new RegExp(`^perm:(allow|deny|more):(${REQUEST_ID_PATTERN.source.slice(1, -1)})$`);
/** Requests answered in the terminal are never settled here; keep only the most recent. */
const MAX_OPEN = 100;

export type VerdictSink = (requestId: string, behavior: Behavior) => Promise<void>;

interface OpenPrompt {
  request: PermissionRequest;
  /** Each prompt message sent, with the text it shows now. */
  messages: Array<{ chatId: string; messageId: number; text: string }>;
}

export class PermissionPrompts {
  private readonly open = new Map<string, OpenPrompt>();

  constructor(
    private readonly connector: TelegramConnector,
    private readonly access: AccessStore,
    private readonly log: Log,
  ) {}

  /**
   * Shows a request to every allowlisted user, in their DM (a DM's chat id is the user id).
   * `session` names the asking session while several share the bot.
   */
  async send(request: PermissionRequest, session?: string): Promise<void> {
    const id = request.request_id;
    const prompt: OpenPrompt = { request, messages: [] };
    this.open.set(id, prompt);
    if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value!);
    const text = `🔐 Permission: ${request.tool_name}${session ? ` (session ${session})` : ''}`;
    const buttons: Button[][] = [[{ text: 'See more', data: `perm:more:${id}` }, ...verdictButtons(id)]];
    const recipients = this.access.permissionRecipients();
    if (recipients.length === 0)
      this.log(`permission request ${id} not shown on Telegram: no allowlisted user to ask (or dmPolicy is disabled)`);
    await Promise.all(
      recipients.map(async (chatId) => {
        try {
          const messageId = await this.connector.sendText(chatId, text, { buttons });
          prompt.messages.push({ chatId, messageId, text });
        } catch (err) {
          this.log(`permission_request send to ${chatId} failed: ${describeApiError(err)}`);
        }
      }),
    );
  }

  /** A button press on a prompt. Only an allowlisted user, in their DM, may answer. */
  async press(press: ButtonPress, verdict: VerdictSink): Promise<void> {
    const match = BUTTON_DATA.exec(press.data);
    if (!match) {
      await this.connector.answerButton(press.callbackId);
      return;
    }
    if (!this.access.mayAnswerPermission(press.senderId, press.isDirect)) {
      await this.connector.answerButton(press.callbackId, 'Not authorized.');
      return;
    }
    const [, action, id] = match as unknown as [string, 'allow' | 'deny' | 'more', string];
    if (action === 'more') {
      await this.expand(press, id);
      return;
    }
    await verdict(id, action);
    await this.connector.answerButton(press.callbackId, action === 'allow' ? '✅ Allowed' : '❌ Denied');
    await this.settle(id, action, press.message);
  }

  /**
   * Rewrites the prompts of a decided request to show the outcome, without buttons, so nobody
   * answers it twice; the request's details are forgotten.
   */
  async settle(id: string, behavior: Behavior, pressed?: ButtonPress['message']): Promise<void> {
    const label = behavior === 'allow' ? '✅ Allowed' : '❌ Denied';
    const messages = this.open.get(id)?.messages ?? [];
    this.open.delete(id);
    // The pressed message may be one this process did not send (a prompt from before a restart).
    if (pressed && !messages.some((m) => m.chatId === pressed.chatId && m.messageId === pressed.messageId)) {
      messages.push(pressed);
    }
    await Promise.all(
      messages.map(({ chatId, messageId, text }) =>
        this.connector
          .editText(chatId, messageId, `${text}\n\n${label}`)
          .catch((err) => this.log(`could not mark permission prompt ${id} as answered: ${describeApiError(err)}`)),
      ),
    );
  }

  private async expand(press: ButtonPress, id: string): Promise<void> {
    const prompt = this.open.get(id);
    if (!prompt || !press.message) {
      await this.connector.answerButton(press.callbackId, 'Details no longer available.');
      return;
    }
    const { tool_name, description, input_preview } = prompt.request;
    const text = [
      `🔐 Permission: ${tool_name}`,
      '',
      `tool_name: ${tool_name}`,
      `description: ${description}`,
      'input_preview:',
      prettyJson(input_preview),
    ]
      .join('\n')
      .slice(0, MAX_TEXT);
    await this.connector.editText(press.message.chatId, press.message.messageId, text, {
      buttons: [verdictButtons(id)],
    });
    const shown = prompt.messages.find(
      (m) => m.chatId === press.message!.chatId && m.messageId === press.message!.messageId,
    );
    if (shown) shown.text = text;
    await this.connector.answerButton(press.callbackId);
  }
}

function verdictButtons(id: string): Button[] {
  return [
    { text: '✅ Allow', data: `perm:allow:${id}` },
    { text: '❌ Deny', data: `perm:deny:${id}` },
  ];
}

/** The preview is JSON cut at 200 characters; whole JSON is shown indented, a cut one as it is. */
function prettyJson(preview: string): string {
  try {
    return JSON.stringify(JSON.parse(preview), null, 2);
  } catch {
    return preview;
  }
}
