/**
 * `openchannels console`: a host with the person at the terminal in the agent's seat. It
 * spawns one channel as a session would, prints each event exactly as an agent would see it,
 * lets the person call the channel's tools, and opens and answers permission requests.
 */
import { createInterface } from 'node:readline';
import { type ListedTool, errorText, inputPreview, parseVerdict } from '@openchannels/kit';
import { ChannelConnection, resultText } from './connection.js';
import { PermissionBroker } from './permissions.js';
import type { ServerSpec } from './plugins.js';
import { renderChannelTag } from './tag.js';

export interface ConsoleOptions {
  spec: ServerSpec;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

const HELP = `Commands:
  <text>                     reply to the chat of the last event (calls the reply tool)
  /call <tool> [json]        call any tool, e.g. /call reply {"chat_id":"web","text":"hi"}
  /tools                     list the channel's tools and their arguments
  /perm <tool> [json|text]   ask permission, as an agent would; answer with yes/no <id>
  yes <id> | no <id>         answer a permission request from here
  /instructions              what the channel tells the agent
  /quit                      stop the channel and leave (so does Ctrl-D)`;

/** Runs the console until stdin ends or /quit; resolves with the exit code. */
export async function runConsole({ spec, input = process.stdin, output = process.stdout }: ConsoleOptions): Promise<number> {
  const interactive = (input as { isTTY?: boolean }).isTTY === true;
  const readline = createInterface({ input, output, terminal: interactive });
  readline.setPrompt('> ');
  const print = (text: string) => {
    if (interactive) output.write('\r\x1b[K');
    output.write(`${text}\n`);
    if (interactive) readline.prompt(true);
  };
  const notice = (text: string) => print(`· ${text}`);

  const broker = new PermissionBroker();
  let lastChatId: string | undefined;
  let finished: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finished = resolve));

  // Lines typed (or piped) while the channel starts wait for it, then run in the order typed.
  let markReady: (handler: ((line: string) => Promise<void>) | null) => void = () => {};
  let queue = new Promise<((line: string) => Promise<void>) | null>((resolve) => (markReady = resolve));
  const lineHandled = (line: string) => {
    queue = queue.then(async (handle) => {
      await handle?.(line).catch((err) => notice(errorText(err)));
      return handle;
    });
  };
  readline.on('line', lineHandled);
  readline.on('close', () => queue.then(() => finished(0)));

  notice(`starting ${spec.name}: ${[spec.command, ...spec.args].join(' ')}`);
  let connection: ChannelConnection;
  try {
    connection = await ChannelConnection.start(spec, {
      onEvent: (event) => {
        if (event.meta?.chat_id) lastChatId = event.meta.chat_id;
        print(`${renderChannelTag(spec.name, event.content, event.meta)}\n`);
      },
      onVerdict: ({ request_id, behavior }) => {
        const applied = broker.answer(request_id, { behavior, via: spec.name });
        if (!applied) notice(`verdict for ${request_id} ignored: no open request with that id`);
      },
      onStderr: (line) => print(`[${spec.name}] ${line}`),
      onProtocolError: (message) => notice(`protocol error: ${message}`),
      onExit: () => {
        notice(`${spec.name} exited`);
        finished(1);
      },
    });
  } catch (err) {
    notice(errorText(err));
    markReady(null);
    readline.close();
    return 1;
  }

  const tools = await connection.listTools();
  const relays = connection.relaysPermissions;
  notice(
    `${spec.name} connected · channel: ${connection.isChannel ? 'yes' : 'NO (it does not declare claude/channel; an agent would get no events)'}` +
      ` · permission relay: ${relays ? 'yes' : 'no'} · tools: ${tools.map((t) => t.name).join(', ') || 'none'}`,
  );
  notice('type /help for commands');

  const callTool = async (name: string, args: Record<string, unknown>) => {
    try {
      const result = await connection.callTool(name, args);
      print(`${result.isError ? '✗' : '→'} ${name}: ${resultText(result)}`);
    } catch (err) {
      print(`✗ ${name}: ${errorText(err)}`);
    }
  };

  const askPermission = async (toolName: string, rest: string) => {
    let input: unknown = {};
    let description = rest || `use ${toolName}`;
    if (rest.startsWith('{')) {
      try {
        input = JSON.parse(rest);
        description = `${toolName} ${rest}`;
      } catch {
        // not JSON: the text is the description
      }
    }
    const { id, answered } = broker.openRequest();
    notice(`permission request ${id}: ${toolName} — ${description}`);
    notice(`answer here with "yes ${id}" or "no ${id}"${relays ? `, or from ${spec.name}` : ''}`);
    answered.then(({ behavior, via }) => notice(`${id} ${behavior === 'allow' ? 'allowed' : 'denied'} via ${via}`));
    if (relays) {
      await connection.sendPermissionRequest({
        request_id: id,
        tool_name: toolName,
        description,
        input_preview: inputPreview(input),
      });
    }
  };

  const handleLine = async (line: string) => {
    const text = line.trim();
    if (!text) return;
    const verdict = parseVerdict(text);
    if (verdict) {
      const applied = broker.answer(verdict.request_id, { behavior: verdict.behavior, via: 'terminal' });
      if (!applied) notice(`no open permission request ${verdict.request_id}`);
      return;
    }
    if (!text.startsWith('/')) return replyToLastChat(text);
    const [command = '', ...words] = text.split(/\s+/);
    const rest = text.slice(command.length).trim();
    switch (command) {
      case '/help':
        return print(HELP);
      case '/tools':
        return print(tools.map(describeTool).join('\n') || 'no tools');
      case '/instructions':
        return print(connection.instructions || '(no instructions)');
      case '/quit':
        return finished(0);
      case '/perm':
        if (!words[0]) return notice('usage: /perm <tool> [json input | description]');
        return askPermission(words[0], rest.slice(words[0].length).trim());
      case '/call': {
        const name = words[0];
        if (!name) return notice('usage: /call <tool> [json arguments]');
        const json = rest.slice(name.length).trim() || '{}';
        let args: unknown;
        try {
          args = JSON.parse(json);
        } catch (err) {
          return notice(`arguments are not valid JSON: ${errorText(err)}`);
        }
        if (typeof args !== 'object' || args === null || Array.isArray(args)) {
          return notice('arguments must be a JSON object');
        }
        return callTool(name, args as Record<string, unknown>);
      }
      default:
        return notice(`unknown command ${command}; /help lists them`);
    }
  };

  const replyToLastChat = async (text: string) => {
    const reply = tools.find((t) => t.name === 'reply');
    if (!reply) return notice(`${spec.name} has no reply tool; use /call`);
    const takesChat = 'chat_id' in ((reply.inputSchema.properties as object | undefined) ?? {});
    const needsChat = ((reply.inputSchema.required as string[] | undefined) ?? []).includes('chat_id');
    if (needsChat && !lastChatId) return notice('no chat yet: wait for an event, or use /call reply {...}');
    return callTool('reply', takesChat && lastChatId ? { chat_id: lastChatId, text } : { text });
  };

  markReady(handleLine);
  if (interactive) readline.prompt();

  const code = await done;
  readline.close();
  await connection.close().catch(() => {});
  return code;
}

function describeTool(tool: ListedTool): string {
  const properties = Object.keys((tool.inputSchema.properties as object | undefined) ?? {});
  const required = new Set((tool.inputSchema.required as string[] | undefined) ?? []);
  const args = properties.map((p) => (required.has(p) ? p : `[${p}]`)).join(', ');
  return `  ${tool.name}(${args}) — ${tool.description}`;
}
