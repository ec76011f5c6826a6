/**
 * The agent's tools: reply, react, download_attachment, edit_message. Each one that reaches a
 * chat may reach only chats the inbound gate delivers from.
 */
import { type AccessStore, type ToolDefinition, checkOutboundFile, defineTool } from '@openchannels/kit';
import { z } from 'zod';
import { MAX_UPLOAD_BYTES, type TelegramConnector } from './connector.js';

const format = z
  .enum(['text', 'markdownv2'])
  .optional()
  .describe(
    "'text' (default) sends plain text as written. 'markdownv2' turns on Telegram formatting (bold, italic, code, links); " +
      'then every one of _*[]()~`>#+-=|{}.! that is not formatting must be escaped with a backslash.',
  );

/**
 * `sessionPrefix` names the answering session (`[api] `) while several share the bot, so the
 * person on the phone knows which one is speaking.
 */
export function telegramTools(
  connector: TelegramConnector,
  access: AccessStore,
  stateDir: string,
  sessionPrefix: () => string = () => '',
): ToolDefinition[] {
  return [
    defineTool({
      name: 'reply',
      description:
        'Send a message to a Telegram chat: text (split into several messages when longer than 4096 characters), ' +
        'optionally quoting an earlier message and attaching files.',
      input: z.object({
        chat_id: z.string().describe('chat_id from the <channel> tag'),
        text: z.string(),
        reply_to: z
          .string()
          .optional()
          .describe('message_id of an earlier message to quote; leave out for a normal answer'),
        files: z
          .array(z.string())
          .optional()
          .describe(
            'Absolute paths of files to send after the text: images as photos, anything else as documents; 50 MB each at most',
          ),
        format,
      }),
      run: async ({ chat_id, text, reply_to, files = [], format }) => {
        access.assertCanSendTo(chat_id);
        // Every file passes the checks before anything is sent.
        const checked = files.map((path) => {
          const file = checkOutboundFile(path, stateDir, Number.POSITIVE_INFINITY);
          if (file.size > MAX_UPLOAD_BYTES) {
            throw new Error(`file too large: ${path} (${(file.size / 1024 / 1024).toFixed(1)}MB, max 50MB)`);
          }
          return file;
        });
        if (!text && checked.length === 0) throw new Error('nothing to send: text is empty and there are no files');
        const prefix = sessionPrefix();
        const markdown = format === 'markdownv2';
        const ids = await connector.reply(
          chat_id,
          {
            text: prefix && text ? `${markdown ? escapeMarkdownV2(prefix) : prefix}${text}` : text,
            replyTo: reply_to === undefined ? undefined : messageId(reply_to, 'reply_to'),
            files: checked,
            markdown,
          },
          access.load(),
        );
        return ids.length === 1 ? `sent (id: ${ids[0]})` : `sent ${ids.length} parts (ids: ${ids.join(', ')})`;
      },
    }),
    defineTool({
      name: 'react',
      description:
        'Add an emoji reaction to a Telegram message. Telegram allows only its reaction emoji (👍 👎 ❤ 🔥 👀 🎉 🙏 👌 💯 and others).',
      input: z.object({
        chat_id: z.string(),
        message_id: z.string(),
        emoji: z.string(),
      }),
      run: async ({ chat_id, message_id, emoji }) => {
        access.assertCanSendTo(chat_id);
        await connector.react(chat_id, messageId(message_id, 'message_id'), emoji);
        return 'reacted';
      },
    }),
    defineTool({
      name: 'download_attachment',
      description:
        'Download a file someone sent (attachment_file_id of the <channel> tag) into the inbox and return its local path, for Read. ' +
        'Telegram lets bots download files up to 20 MB.',
      input: z.object({
        file_id: z.string().describe('attachment_file_id from the <channel> tag'),
      }),
      run: ({ file_id }) => connector.download(file_id),
    }),
    defineTool({
      name: 'edit_message',
      description:
        'Change the text of a message this bot sent, e.g. a progress note. Edits do not notify the user: send a new reply when a long task is done.',
      input: z.object({
        chat_id: z.string(),
        message_id: z.string(),
        text: z.string(),
        format,
      }),
      run: async ({ chat_id, message_id, text, format }) => {
        access.assertCanSendTo(chat_id);
        const id = messageId(message_id, 'message_id');
        await connector.editText(chat_id, id, text, { markdown: format === 'markdownv2' });
        return `edited (id: ${id})`;
      },
    }),
  ];
}

function messageId(value: string, what: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new Error(`${what} must be a message id (a whole number), got ${JSON.stringify(value)}`);
  return id;
}

/** MarkdownV2 treats these as markup; text meant literally must escape them. */
function escapeMarkdownV2(text: string): string {
  return text.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, (c) => `\\${c}`);
}
