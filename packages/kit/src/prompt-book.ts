/**
 * Permission prompts on a chat platform, the same everywhere: `🔐 Permission: <tool>` with See
 * more / Allow / Deny buttons in the DM of every allowlisted user; See more expands the message to
 * the request's details; Allow or Deny (pressed, or typed as `yes <id>`) passes the verdict on and
 * rewrites every copy of the prompt to show the outcome, without buttons, so nobody answers twice.
 * Only an allowlisted user, in their DM, may answer.
 *
 * The platform supplies how a prompt is sent and edited (`PromptSurface`) and how a button press
 * is answered (`PressAnswer`: a toast, an ephemeral reply, an in-place update).
 */
import type { AccessStore } from './access.js';
import { type Behavior, type PermissionRequest, REQUEST_ID_PATTERN } from './contract.js';
import { type Log, errorText } from './log.js';

export type PromptAction = 'more' | 'allow' | 'deny';

export interface PromptButton {
  action: PromptAction;
  /** What the platform carries back on a press: `perm:<action>:<request id>`. */
  data: string;
  label: 'See more' | 'Allow' | 'Deny';
  emoji?: '✅' | '❌';
}

/** Where a prompt was shown; ids as strings, whatever the platform's type. */
export interface PromptMessage {
  chatId: string;
  messageId: string;
}

export interface PromptSurface {
  /** The platform's name, for log lines. */
  name: string;
  /** Longest message text the platform takes. */
  maxText: number;
  /** Sends a prompt to the DM of an allowlisted user. */
  send(userId: string, text: string, buttons: PromptButton[]): Promise<PromptMessage>;
  /** Rewrites a prompt; an empty `buttons` removes them all. */
  edit(message: PromptMessage, text: string, buttons: PromptButton[]): Promise<void>;
}

export interface PromptPress {
  data: string;
  senderId: string;
  /** Pressed in the presser's DM with the bot. */
  isDirect: boolean;
  /** The message the button is on, with the text it shows now, when the platform says. */
  message?: PromptMessage & { text: string };
}

/** How the platform answers a press. */
export interface PressAnswer {
  /** A button that is not a prompt's: acknowledge it, or say nothing. */
  ignore(): Promise<void>;
  /** A short note only the presser sees. */
  notice(text: string): Promise<void>;
  /** Rewrites the pressed message (an empty `buttons` removes them) and answers the press; `outcome` is the verdict's label. */
  update(text: string, buttons: PromptButton[], outcome?: string): Promise<void>;
}

export type VerdictSink = (requestId: string, behavior: Behavior) => Promise<void>;

const BUTTON_DATA = new RegExp(`^perm:(allow|deny|more):(${REQUEST_ID_PATTERN.source.slice(1, -1)})$`);
/** Requests answered in the terminal are never settled here; keep only the most recent. */
const MAX_OPEN = 100;

interface OpenPrompt {
  request: PermissionRequest;
  /** Each copy shown, with the text it shows now. */
  shown: Array<PromptMessage & { text: string }>;
}

export class PromptBook {
  private readonly open = new Map<string, OpenPrompt>();

  constructor(
    private readonly surface: PromptSurface,
    private readonly access: AccessStore,
    private readonly log: Log,
  ) {}

  /** Shows a request to every allowlisted user; `session` names the asking session while several share the bot. */
  async show(request: PermissionRequest, session?: string): Promise<void> {
    const id = request.request_id;
    const prompt: OpenPrompt = { request, shown: [] };
    this.open.set(id, prompt);
    if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value!);
    const text = `🔐 Permission: ${request.tool_name}${session ? ` (session ${session})` : ''}`;
    const buttons = [button('more', id), ...verdictButtons(id)];
    const { userIds, nobodyBecause } = this.access.permissionRecipients();
    if (nobodyBecause) this.log(`permission request ${id} not shown on ${this.surface.name}: ${nobodyBecause}; answer it in the terminal`);
    await Promise.all(
      userIds.map(async (userId) => {
        try {
          prompt.shown.push({ ...(await this.surface.send(userId, text, buttons)), text });
        } catch (err) {
          this.log(`permission_request send to ${userId} failed: ${errorText(err)}`);
        }
      }),
    );
  }

  async press(press: PromptPress, answer: PressAnswer, verdict: VerdictSink): Promise<void> {
    const match = BUTTON_DATA.exec(press.data);
    if (!match) return answer.ignore();
    if (!this.access.mayAnswerPermission(press.senderId, press.isDirect)) return answer.notice('Not authorized.');
    const [, action, id] = match as unknown as [string, PromptAction, string];
    const prompt = this.open.get(id);
    if (action === 'more') {
      if (!prompt || !press.message) return answer.notice('Details no longer available.');
      const text = this.details(prompt.request);
      await answer.update(text, verdictButtons(id));
      const copy = prompt.shown.find((m) => samePlace(m, press.message!));
      if (copy) copy.text = text;
      return;
    }
    await verdict(id, action);
    const outcome = outcomeLabel(action);
    let pressedShown = false;
    if (press.message) {
      pressedShown = await answer.update(`${press.message.text}\n\n${outcome}`, [], outcome).then(
        () => true,
        (err) => {
          this.log(`could not mark the pressed permission prompt ${id} as answered: ${errorText(err)}`);
          return false;
        },
      );
    } else {
      await answer.notice(outcome);
    }
    await this.settle(id, action, pressedShown ? press.message : undefined);
  }

  /** Rewrites the copies of a decided request (but `done`, already showing it) with the outcome and forgets its details. */
  async settle(id: string, behavior: Behavior, done?: PromptMessage): Promise<void> {
    const outcome = outcomeLabel(behavior);
    const copies = this.open.get(id)?.shown ?? [];
    this.open.delete(id);
    await Promise.all(
      copies
        .filter((copy) => !done || !samePlace(copy, done))
        .map((copy) =>
          this.surface
            .edit({ chatId: copy.chatId, messageId: copy.messageId }, `${copy.text}\n\n${outcome}`, [])
            .catch((err) => this.log(`could not mark permission prompt ${id} as answered: ${errorText(err)}`)),
        ),
    );
  }

  private details(request: PermissionRequest): string {
    const { tool_name, description, input_preview } = request;
    return [`🔐 Permission: ${tool_name}`, '', `tool_name: ${tool_name}`, `description: ${description}`, 'input_preview:', prettyJson(input_preview)]
      .join('\n')
      .slice(0, this.surface.maxText);
  }
}

function outcomeLabel(behavior: Behavior): string {
  return behavior === 'allow' ? '✅ Allowed' : '❌ Denied';
}

function button(action: PromptAction, id: string): PromptButton {
  const data = `perm:${action}:${id}`;
  if (action === 'more') return { action, data, label: 'See more' };
  return action === 'allow' ? { action, data, label: 'Allow', emoji: '✅' } : { action, data, label: 'Deny', emoji: '❌' };
}

function verdictButtons(id: string): PromptButton[] {
  return [button('allow', id), button('deny', id)];
}

function samePlace(a: PromptMessage, b: PromptMessage): boolean {
  return a.chatId === b.chatId && a.messageId === b.messageId;
}

/** The preview is JSON cut at 200 characters; whole JSON is shown indented, a cut one as it is. */
function prettyJson(preview: string): string {
  try {
    return JSON.stringify(JSON.parse(preview), null, 2);
  } catch {
    return preview;
  }
}
