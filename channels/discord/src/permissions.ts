/**
 * Permission prompts on Discord: `🔐 Permission: <tool>` with See more / Allow / Deny buttons in
 * the DM of every allowlisted user, the button presses (interactions), and the prompts rewritten
 * to show the outcome once a verdict is in, from a button or a typed `yes <id>`.
 */
import { type AccessStore, type Behavior, type Log, type PermissionRequest, REQUEST_ID_PATTERN } from '@openchannels/kit';
import {
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIComponentInMessageActionRow,
  type APIMessageComponentInteraction,
  ButtonStyle,
  ComponentType,
  MessageFlags,
} from '@discordjs/core';
import { type DiscordConnector, MAX_TEXT, describeError } from './connector.js';

const CUSTOM_ID = new RegExp(`^perm:(allow|deny|more):(${REQUEST_ID_PATTERN.source.slice(1, -1)})$`);
/** Requests answered in the terminal are never settled here; keep only the most recent. */
const MAX_OPEN = 100;

export type VerdictSink = (requestId: string, behavior: Behavior) => Promise<void>;

interface OpenPrompt {
  request: PermissionRequest;
  messages: Array<{ channelId: string; messageId: string; text: string }>;
}

export class PermissionPrompts {
  private readonly open = new Map<string, OpenPrompt>();

  constructor(
    private readonly connector: DiscordConnector,
    private readonly access: AccessStore,
    private readonly log: Log,
  ) {}

  /** Shows a request in the DM of every allowlisted user; `session` names the asking session while several share the bot. */
  async send(request: PermissionRequest, session?: string): Promise<void> {
    const id = request.request_id;
    const prompt: OpenPrompt = { request, messages: [] };
    this.open.set(id, prompt);
    if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value!);
    const text = `🔐 Permission: ${request.tool_name}${session ? ` (session ${session})` : ''}`;
    const components = [row([button('See more', `perm:more:${id}`, ButtonStyle.Secondary), ...verdictButtons(id)])];
    const recipients = this.access.permissionRecipients();
    if (recipients.length === 0) this.log(`permission request ${id} not shown on Discord: no allowlisted user to ask (or dmPolicy is disabled)`);
    await Promise.all(
      recipients.map(async (userId) => {
        try {
          const channelId = await this.connector.dmChannelOf(userId);
          const sent = await this.connector.sendText(channelId, text, { components });
          prompt.messages.push({ channelId, messageId: sent.id, text });
        } catch (err) {
          this.log(`permission_request send to ${userId} failed: ${describeError(err)}`);
        }
      }),
    );
  }

  /** A button press. Only an allowlisted user in their DM may answer; others are told so privately. */
  async press(interaction: APIMessageComponentInteraction, verdict: VerdictSink): Promise<void> {
    const match = CUSTOM_ID.exec(interaction.data.custom_id);
    // Not ours: no answer, as the reference (Discord shows "interaction failed").
    if (!match) return;
    const { interactions } = this.connector.api;
    const user = interaction.user ?? interaction.member?.user;
    const isDirect = !interaction.guild_id;
    if (!user || !this.access.mayAnswerPermission(user.id, isDirect)) {
      await interactions.reply(interaction.id, interaction.token, { content: 'Not authorized.', flags: MessageFlags.Ephemeral });
      return;
    }
    const [, action, id] = match as unknown as [string, 'allow' | 'deny' | 'more', string];
    const prompt = this.open.get(id);
    if (action === 'more') {
      if (!prompt) {
        await interactions.reply(interaction.id, interaction.token, { content: 'Details no longer available.', flags: MessageFlags.Ephemeral });
        return;
      }
      const { tool_name, description, input_preview } = prompt.request;
      const text = [`🔐 Permission: ${tool_name}`, '', `tool_name: ${tool_name}`, `description: ${description}`, 'input_preview:', prettyJson(input_preview)]
        .join('\n')
        .slice(0, MAX_TEXT);
      await interactions.updateMessage(interaction.id, interaction.token, { content: text, components: [row(verdictButtons(id))] });
      const shown = prompt.messages.find((m) => m.messageId === interaction.message.id);
      if (shown) shown.text = text;
      return;
    }
    await verdict(id, action);
    const label = action === 'allow' ? '✅ Allowed' : '❌ Denied';
    const shown = await interactions
      .updateMessage(interaction.id, interaction.token, { content: `${interaction.message.content}\n\n${label}`, components: [] })
      .then(
        () => true,
        (err) => {
          this.log(`could not mark the pressed permission prompt ${id} as answered: ${describeError(err)}`);
          return false;
        },
      );
    await this.settle(id, action, shown ? interaction.message.id : undefined);
  }

  /** Marks a decided request's other prompts with the outcome, without buttons, and forgets its details. */
  async settle(id: string, behavior: Behavior, alreadyShownIn?: string): Promise<void> {
    const label = behavior === 'allow' ? '✅ Allowed' : '❌ Denied';
    const messages = this.open.get(id)?.messages ?? [];
    this.open.delete(id);
    await Promise.all(
      messages
        .filter((m) => m.messageId !== alreadyShownIn)
        .map(({ channelId, messageId, text }) =>
          this.connector.api.channels
            .editMessage(channelId, messageId, { content: `${text}\n\n${label}`, components: [] })
            .catch((err) => this.log(`could not mark permission prompt ${id} as answered: ${describeError(err)}`)),
        ),
    );
  }
}

function button(
  label: string,
  customId: string,
  style: APIButtonComponentWithCustomId['style'],
  emoji?: string,
): APIButtonComponentWithCustomId {
  return { type: ComponentType.Button, label, custom_id: customId, style, ...(emoji ? { emoji: { name: emoji } } : {}) };
}

function row(components: APIButtonComponentWithCustomId[]): APIActionRowComponent<APIComponentInMessageActionRow> {
  return { type: ComponentType.ActionRow, components };
}

function verdictButtons(id: string): APIButtonComponentWithCustomId[] {
  return [button('Allow', `perm:allow:${id}`, ButtonStyle.Success, '✅'), button('Deny', `perm:deny:${id}`, ButtonStyle.Danger, '❌')];
}

/** The preview is JSON cut at 200 characters; whole JSON is shown indented, a cut one as it is. */
function prettyJson(preview: string): string {
  try {
    return JSON.stringify(JSON.parse(preview), null, 2);
  } catch {
    return preview;
  }
}
