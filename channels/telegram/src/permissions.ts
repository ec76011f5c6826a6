/**
 * Telegram's side of the kit's permission prompts: prompts as messages with an inline keyboard
 * (a DM's chat id is the user id), and presses answered with a toast (callback query answer).
 */
import type { PressAnswer, PromptButton, PromptPress, PromptSurface } from '@openchannels/kit';
import { type Button, type ButtonPress, MAX_TEXT, type TelegramConnector, describeApiError } from './connector.js';

export function telegramPrompts(connector: TelegramConnector): PromptSurface {
  return {
    name: 'Telegram',
    maxText: MAX_TEXT,
    send: async (userId, text, buttons) => {
      const messageId = await connector.sendText(userId, text, { buttons: [keyboardRow(buttons)] }).catch((err) => {
        throw new Error(describeApiError(err));
      });
      return { chatId: userId, messageId: String(messageId) };
    },
    edit: (message, text, buttons) =>
      connector.editText(message.chatId, Number(message.messageId), text, buttons.length > 0 ? { buttons: [keyboardRow(buttons)] } : {}),
  };
}

/** The kit's view of a press, and how it is answered. */
export function promptPress(connector: TelegramConnector, press: ButtonPress): { press: PromptPress; answer: PressAnswer } {
  const { message } = press;
  const answer: PressAnswer = {
    ignore: () => connector.answerButton(press.callbackId),
    notice: (text) => connector.answerButton(press.callbackId, text),
    update: async (text, buttons, outcome) => {
      await connector.editText(message!.chatId, message!.messageId, text, buttons.length > 0 ? { buttons: [keyboardRow(buttons)] } : {});
      await connector.answerButton(press.callbackId, outcome);
    },
  };
  return {
    press: {
      data: press.data,
      senderId: press.senderId,
      isDirect: press.isDirect,
      ...(message ? { message: { chatId: message.chatId, messageId: String(message.messageId), text: message.text } } : {}),
    },
    answer,
  };
}

function keyboardRow(buttons: PromptButton[]): Button[] {
  return buttons.map((b) => ({ text: b.emoji ? `${b.emoji} ${b.label}` : b.label, data: b.data }));
}
