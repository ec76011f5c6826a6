/**
 * The agent's tools: the reference's reply, react, edit_message, fetch_messages and
 * download_attachment, then create_thread. Each one reaches only chats the inbound gate delivers
 * from (a DM with an allowlisted user, an opted-in channel or a thread under one), history and
 * downloads included.
 */
import { type AccessStore, type ToolDefinition, checkOutboundFile, chunkText, defineTool, effectiveChunkLimit } from '@openchannels/kit';
import { z } from 'zod';
import { type DiscordConnector, MAX_FILES, MAX_FILE_BYTES, MAX_TEXT } from './connector.js';

const FETCH_DEFAULT = 20;
const FETCH_MAX = 100;

/** `sessionPrefix` names the answering session (`[api] `) while several share the bot. */
export function discordTools(
  connector: DiscordConnector,
  access: AccessStore,
  stateDir: string,
  sessionPrefix: () => string = () => '',
): ToolDefinition[] {
  const gate = async (chatId: string) => access.assertCanSendTo(chatId, await connector.route(chatId));
  return [
    defineTool({
      name: 'reply',
      description:
        'Send a message to a Discord channel or DM: text (split into several messages past 2000 characters), ' +
        'optionally quoting an earlier message. Attach files with absolute paths. Max 10 files, 25MB each.',
      input: z.object({
        chat_id: z.string().describe('chat_id from the <channel> tag'),
        text: z.string(),
        reply_to: z.string().optional().describe('message_id to quote; leave out for a normal answer'),
        files: z.array(z.string()).optional().describe('Absolute paths of files to attach. Max 10 files, 25MB each.'),
      }),
      run: async ({ chat_id, text, reply_to, files = [] }) => {
        await gate(chat_id);
        const checked = files.map((path) => {
          const file = checkOutboundFile(path, stateDir, Number.POSITIVE_INFINITY);
          if (file.size > MAX_FILE_BYTES) {
            throw new Error(`file too large: ${path} (${(file.size / 1024 / 1024).toFixed(1)}MB, max 25MB)`);
          }
          return file;
        });
        if (checked.length > MAX_FILES) throw new Error('Discord allows max 10 attachments per message');
        if (!text && checked.length === 0) throw new Error('nothing to send: text is empty and there are no files');
        const settings = access.load();
        const prefix = sessionPrefix();
        const body = prefix && text ? `${prefix}${text}` : text;
        const chunks = body
          ? chunkText(body, effectiveChunkLimit(settings.textChunkLimit, MAX_TEXT), settings.chunkMode)
          : [''];
        const mode = settings.replyToMode ?? 'first';
        const ids = await connector.send(chat_id, chunks, {
          files: checked,
          replyTo: (index) => (reply_to && mode !== 'off' && (mode === 'all' || index === 0) ? reply_to : undefined),
        });
        return ids.length === 1 ? `sent (id: ${ids[0]})` : `sent ${ids.length} parts (ids: ${ids.join(', ')})`;
      },
    }),
    defineTool({
      name: 'react',
      description: 'Add an emoji reaction to a Discord message. Unicode emoji work as they are; custom emoji need the <:name:id> form.',
      input: z.object({ chat_id: z.string(), message_id: z.string(), emoji: z.string() }),
      run: async ({ chat_id, message_id, emoji }) => {
        await gate(chat_id);
        // Custom emoji are addressed as name:id in the URL.
        const custom = /^<a?:(\w+):(\d+)>$/.exec(emoji);
        await connector.api.channels.addMessageReaction(chat_id, message_id, custom ? `${custom[1]}:${custom[2]}` : emoji);
        return 'reacted';
      },
    }),
    defineTool({
      name: 'edit_message',
      description: 'Change the text of a message this bot sent, e.g. a progress note. Edits do not notify anyone: send a new reply when a long task is done.',
      input: z.object({ chat_id: z.string(), message_id: z.string(), text: z.string() }),
      run: async ({ chat_id, message_id, text }) => {
        await gate(chat_id);
        const edited = await connector.api.channels.editMessage(chat_id, message_id, { content: text });
        return `edited (id: ${edited.id})`;
      },
    }),
    defineTool({
      name: 'fetch_messages',
      description:
        "Fetch a channel's recent history, oldest first, one message per line with its id. Bots cannot search: " +
        'fetch more, or ask the user roughly when something was said.',
      input: z.object({
        channel: z.string().describe('chat_id from the <channel> tag'),
        limit: z.number().int().optional().describe('how many messages, default 20, max 100'),
      }),
      run: async ({ channel, limit }) => {
        await gate(channel);
        const messages = await connector.api.channels.getMessages(channel, {
          limit: Math.min(limit ?? FETCH_DEFAULT, FETCH_MAX),
        });
        if (messages.length === 0) return '(no messages)';
        const me = await connector.ownId();
        return messages
          .reverse()
          .map((m) => {
            const who = m.author.id === me ? 'me' : m.author.username;
            // Flattened: a multi-line message cannot pass for several rows.
            const text = m.content.replace(/[\r\n]+/g, ' ⏎ ');
            const att = m.attachments.length > 0 ? ` +${m.attachments.length}att` : '';
            return `[${new Date(m.timestamp).toISOString()}] ${who}: ${text}  (id: ${m.id}${att})`;
          })
          .join('\n');
      },
    }),
    defineTool({
      name: 'download_attachment',
      description: 'Download the attachments of a message (attachment_count in the <channel> tag) into the inbox; returns their paths, for Read.',
      input: z.object({ chat_id: z.string(), message_id: z.string() }),
      run: async ({ chat_id, message_id }) => {
        await gate(chat_id);
        const lines = await connector.download(chat_id, message_id);
        if (lines.length === 0) return 'message has no attachments';
        return `downloaded ${lines.length} attachment(s):\n${lines.join('\n')}`;
      },
    }),
    defineTool({
      name: 'create_thread',
      description:
        'Start a thread in a server channel, from one of its messages (message_id) or on its own, to keep a longer piece ' +
        "of work out of the channel's main flow. Returns the thread's chat_id: reply there; messages people write in the " +
        'thread arrive with that chat_id.',
      input: z.object({
        chat_id: z.string().describe('chat_id of a server channel (not a DM or a thread)'),
        name: z.string().min(1).max(100).describe('the thread title, up to 100 characters'),
        message_id: z.string().optional().describe('start the thread from this message'),
      }),
      run: async ({ chat_id, name, message_id }) => {
        const route = await connector.route(chat_id);
        access.assertCanSendTo(chat_id, route);
        if (route.dmWith !== undefined || route.groupKey !== undefined) {
          throw new Error(`threads start in a server channel; ${chat_id} is a ${route.dmWith !== undefined ? 'DM' : 'thread'}`);
        }
        const thread = await connector.startThread(chat_id, name, message_id);
        return `created thread "${thread.name}" (chat_id: ${thread.id})`;
      },
    }),
  ];
}
