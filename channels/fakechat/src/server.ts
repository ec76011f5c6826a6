/**
 * fakechat: a chat page on http://127.0.0.1:8787 that talks to the session. What is typed there
 * arrives as a channel event; the agent answers with `reply` and `edit_message`, and permission
 * prompts can be answered from the page.
 */
import { join } from 'node:path';
import {
  Channel,
  ChannelSettings,
  checkOutboundFile,
  defineTool,
  ensureDir,
  errorText,
  parsePort,
  resolveStateDir,
  runUntilStdinCloses,
} from '@openchannels/kit';
import { z } from 'zod';
import { MAX_FILE_BYTES } from './files.js';
import { WebChat } from './web.js';

const DEFAULT_PORT = 8787;
/** fakechat has a single conversation. */
const CHAT_ID = 'web';

const INSTRUCTIONS = [
  'The user reads the fakechat page in a browser, not this session: nothing you write in the transcript reaches them. Answer every fakechat message with the reply tool.',
  `Messages arrive as <channel source="fakechat" chat_id="${CHAT_ID}" message_id="..." user="web" ts="...">text</channel>. There is one chat ("${CHAT_ID}"), so reply needs no chat_id. When the tag has a file_path attribute, the user uploaded a file: Read that path (the text then only names the file).`,
  'reply sends text, and in files the absolute paths of files to attach (any number, up to 50 MB each; images show inline, every file can be downloaded). Pass reply_to with a message_id to quote that message. edit_message changes the text of a message you sent, given the id reply returned: use it for progress updates (reply "working on it…", then edit it into the result).',
  'Permission prompts for your tool calls also appear in the page, and the user may answer them there.',
].join('\n\n');

const stateDir = resolveStateDir('fakechat');
const inboxDir = ensureDir(join(stateDir, 'inbox'));
const outboxDir = ensureDir(join(stateDir, 'outbox'));

const channel: Channel = new Channel({
  name: 'fakechat',
  version: '0.1.0',
  instructions: INSTRUCTIONS,
  tools: [
    defineTool({
      name: 'reply',
      description: 'Send a message to the fakechat page, optionally quoting a message and attaching files.',
      input: z.object({
        text: z.string().describe('The message'),
        chat_id: z.string().optional().describe(`Optional; the only chat is "${CHAT_ID}"`),
        reply_to: z.string().optional().describe('message_id of the message to quote'),
        files: z.array(z.string()).optional().describe('Absolute paths of files to attach (50 MB each at most)'),
      }),
      run: ({ text, chat_id, reply_to, files = [] }) => {
        if (chat_id !== undefined && chat_id !== CHAT_ID) {
          throw new Error(`no chat ${JSON.stringify(chat_id)}: fakechat has one chat, "${CHAT_ID}"`);
        }
        if (!text.trim() && files.length === 0) throw new Error('nothing to send: text is empty and there are no files');
        // Every file passes the checks before anything is shown: a reply goes out whole or not at all.
        const checked = files.map((path) => checkOutboundFile(path, stateDir, MAX_FILE_BYTES));
        const message = web.postReply({ text, replyTo: reply_to, files: checked });
        return `sent (${message.id})`;
      },
    }),
    defineTool({
      name: 'edit_message',
      description: 'Change the text of a message you sent to the fakechat page (it shows as edited).',
      input: z.object({
        message_id: z.string().describe('The id reply returned'),
        text: z.string().describe('The new text'),
      }),
      run: ({ message_id, text }) => {
        web.editReply(message_id, text);
        return `edited (${message_id})`;
      },
    }),
  ],
  // The page is the local user: the Host/Origin guard keeps every other web page out of it.
  onPermissionRequest: (request) => web.showPermission(request),
});

const web = new WebChat({ channel, inboxDir, outboxDir });

let port: number;
try {
  const settings = new ChannelSettings(stateDir, process.env, channel.log);
  port = await web.listen(parsePort(settings.get('FAKECHAT_PORT'), DEFAULT_PORT, 'FAKECHAT_PORT'));
} catch (err) {
  channel.log(errorText(err));
  process.exit(1);
}
channel.log(`listening on http://127.0.0.1:${port}`);
await channel.connect();
runUntilStdinCloses({
  log: channel.log,
  cleanup: async () => {
    await web.close();
    await channel.close();
  },
});
