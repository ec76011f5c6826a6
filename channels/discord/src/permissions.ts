/**
 * Discord's side of the kit's permission prompts: prompts as DM messages with button components,
 * and presses (interactions) answered in place or with an ephemeral note.
 */
import type { PressAnswer, PromptButton, PromptPress, PromptSurface } from '@openchannels/kit';
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIMessageComponentInteraction,
  ButtonStyle,
  ComponentType,
  MessageFlags,
} from '@discordjs/core/http-only';
import { type DiscordConnector, MAX_TEXT } from './connector.js';

const STYLES = { more: ButtonStyle.Secondary, allow: ButtonStyle.Success, deny: ButtonStyle.Danger } as const;

export function discordPrompts(connector: DiscordConnector): PromptSurface {
  return {
    name: 'Discord',
    maxText: MAX_TEXT,
    send: async (userId, text, buttons) => {
      const chatId = await connector.dmChannelOf(userId);
      const sent = await connector.sendText(chatId, text, { components: rows(buttons) });
      return { chatId, messageId: sent.id };
    },
    edit: async (message, text, buttons) => {
      await connector.api.channels.editMessage(message.chatId, message.messageId, { content: text, components: rows(buttons) });
    },
  };
}

/** The kit's view of a press, and how it is answered. */
export function promptPress(connector: DiscordConnector, interaction: APIMessageComponentInteraction): { press: PromptPress; answer: PressAnswer } {
  const { interactions } = connector.api;
  const ephemeral = (content: string) => interactions.reply(interaction.id, interaction.token, { content, flags: MessageFlags.Ephemeral });
  const answer: PressAnswer = {
    // As the reference: no answer (Discord shows "interaction failed").
    ignore: async () => {},
    notice: ephemeral,
    update: async (text, buttons) => {
      await interactions.updateMessage(interaction.id, interaction.token, { content: text, components: rows(buttons) });
    },
  };
  const user = interaction.user ?? interaction.member?.user;
  return {
    press: {
      data: interaction.data.custom_id,
      senderId: user?.id ?? '',
      isDirect: !interaction.guild_id,
      message: { chatId: interaction.message.channel_id, messageId: interaction.message.id, text: interaction.message.content },
    },
    answer,
  };
}

function rows(buttons: PromptButton[]): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  if (buttons.length === 0) return [];
  return [
    {
      type: ComponentType.ActionRow,
      components: buttons.map((b) => ({
        type: ComponentType.Button,
        label: b.label,
        custom_id: b.data,
        style: STYLES[b.action],
        ...(b.emoji ? { emoji: { name: b.emoji } } : {}),
      })),
    },
  ];
}
