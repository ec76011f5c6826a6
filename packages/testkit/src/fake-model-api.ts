/**
 * A stand-in for the Anthropic Messages API on loopback, so a real agent (the Claude Code CLI
 * behind its ACP adapter) can run here without network. It streams a scripted answer: for a
 * `<channel source="S" chat_id="C">` event whose content has a line `!reply <text>`, a call of
 * the tool `mcp__S__reply` with {chat_id, text}; after a tool result, a short closing text;
 * otherwise a plain greeting. Every request is recorded.
 */
import { type Server, createServer } from 'node:http';
import { Mailbox } from './mailbox.js';

interface ContentBlock {
  type: string;
  text?: string;
}
interface MessagesRequest {
  model?: string;
  stream?: boolean;
  messages?: Array<{ role: string; content: string | ContentBlock[] }>;
}

export interface ScriptedToolCall {
  name: string;
  input: Record<string, string>;
}

const REPLY_DIRECTIVE = /<channel source="([^"]+)"[^>]*?\bchat_id="([^"]*)"[^>]*>\n[\s\S]*?^!reply (.+)$/m;

/** What the scripted model does next, given the conversation so far. */
export function scriptedAnswer(request: MessagesRequest): { text: string } | { tool: ScriptedToolCall } {
  const last = request.messages?.at(-1);
  const blocks: ContentBlock[] = typeof last?.content === 'string' ? [{ type: 'text', text: last.content }] : (last?.content ?? []);
  // What the user side said this time, without the reminders the CLI adds to every message.
  const said = blocks.filter((b) => b.type === 'text' && !b.text?.startsWith('<system-reminder>'));
  const directive = REPLY_DIRECTIVE.exec(said.map((b) => b.text).join('\n'));
  if (directive) {
    const [, source, chatId, reply] = directive;
    return { tool: { name: `mcp__${source}__reply`, input: { chat_id: chatId!, text: reply! } } };
  }
  if (said.length === 0 && blocks.some((b) => b.type === 'tool_result')) return { text: 'Done: the reply went out.' };
  return { text: 'Hello from the fake model.' };
}

export class FakeModelApi {
  readonly requests = new Mailbox<MessagesRequest>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeModelApi> {
    let api: FakeModelApi | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
          return;
        }
        const request = JSON.parse(body || '{}') as MessagesRequest;
        api?.requests.push(request);
        const answer = scriptedAnswer(request);
        if (request.stream) stream(res, request.model ?? 'fake', answer);
        else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(message(request.model ?? 'fake', 'text' in answer ? answer.text : 'ok')));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    api = new FakeModelApi(server, `http://127.0.0.1:${address.port}`);
    return api;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function message(model: string, text: string) {
  return {
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  };
}

/** The Messages API's server-sent events for one answer. */
function stream(res: import('node:http').ServerResponse, model: string, answer: ReturnType<typeof scriptedAnswer>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', { message: { ...message(model, ''), content: [], stop_reason: null } });
  if ('tool' in answer) {
    send('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_fake_1', name: answer.tool.name, input: {} } });
    send('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(answer.tool.input) } });
  } else {
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: answer.text } });
  }
  send('content_block_stop', { index: 0 });
  send('message_delta', { delta: { stop_reason: 'tool' in answer ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } });
  send('message_stop', {});
  res.end();
}
