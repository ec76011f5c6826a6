/**
 * A scripted ACP agent for testing hosts: `node fake-agent.js`. It starts the MCP servers it is
 * given as a real agent would, records every turn to FAKE_AGENT_LOG (JSON lines), streams a short
 * text per turn, and follows directives found in the prompt:
 *   !reply <text>                      inside a <channel> tag: call that channel's reply tool
 *   !call <server> <tool> <json>       call any tool
 *   !permission <tool> <title...>      ask the client for permission, then say the outcome
 *   !busy <ms>                         keep the turn running that long (cancellable)
 */
import { appendFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const logPath = process.env.FAKE_AGENT_LOG;
const record = (entry: object) => {
  if (logPath) appendFileSync(logPath, `${JSON.stringify(entry)}\n`);
};

const servers = new Map<string, Client>();
let turn = 0;
let cancelTurn: (() => void) | undefined;

const TAG = /^<channel source="([^"]+)"([^>]*)>\n([\s\S]*)\n<\/channel>$/;

async function callTool(server: string, tool: string, args: Record<string, unknown>) {
  const client = servers.get(server);
  if (!client) return { server, tool, error: `no MCP server ${server}` };
  const result = (await client.callTool({ name: tool, arguments: args })) as {
    content: Array<{ text: string }>;
    isError?: boolean;
  };
  return { server, tool, arguments: args, text: result.content.map((c) => c.text).join('\n'), isError: !!result.isError };
}

const app = acp
  .agent({ name: 'fake-agent' })
  .onRequest(acp.methods.agent.initialize, () => ({
    protocolVersion: acp.PROTOCOL_VERSION,
    agentCapabilities: { loadSession: false },
    agentInfo: { name: 'fake-agent', version: '0.0.0' },
  }))
  .onRequest(acp.methods.agent.session.new, async ({ params }) => {
    // Started in parallel, as a real agent starts its MCP servers.
    const stdioServers = params.mcpServers.filter((server) => 'command' in server);
    const described = await Promise.all(
      stdioServers.map(async (server) => {
        const client = new Client({ name: 'fake-agent', version: '0' });
        await client.connect(
          new StdioClientTransport({
            command: server.command,
            args: server.args,
            env: Object.fromEntries(server.env.map((e) => [e.name, e.value])),
            stderr: 'inherit',
          }),
        );
        servers.set(server.name, client);
        const { tools } = await client.listTools();
        return { name: server.name, tools: tools.map((t) => t.name), instructions: client.getInstructions() ?? '' };
      }),
    );
    record({ session: { cwd: params.cwd, servers: described } });
    return { sessionId: 'fake-session-1' };
  })
  .onNotification(acp.methods.agent.session.cancel, () => cancelTurn?.())
  .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
    // Wall-clock time with sub-millisecond precision, comparable with other processes' clocks.
    const receivedAt = performance.timeOrigin + performance.now();
    turn += 1;
    const texts = params.prompt.flatMap((block) => (block.type === 'text' ? [block.text] : []));
    const say = (text: string) =>
      client.notify(acp.methods.client.session.update, {
        sessionId: params.sessionId,
        update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } },
      });
    const actions: object[] = [];
    let stopReason: acp.StopReason = 'end_turn';
    for (const text of texts) {
      const tag = TAG.exec(text);
      const body = tag ? tag[3]! : text;
      const chatId = tag ? /\bchat_id="([^"]*)"/.exec(tag[2]!)?.[1] : undefined;
      for (const line of body.split('\n')) {
        const reply = /^!reply (.*)$/.exec(line);
        const call = /^!call (\S+) (\S+) (.*)$/.exec(line);
        const permission = /^!permission (\S+) (.*)$/.exec(line);
        const busy = /^!busy (\d+)$/.exec(line);
        if (reply && tag) {
          actions.push(await callTool(tag[1]!, 'reply', { chat_id: chatId, text: reply[1] }));
        } else if (call) {
          actions.push(await callTool(call[1]!, call[2]!, JSON.parse(call[3]!) as Record<string, unknown>));
        } else if (permission) {
          const response = await client.request(acp.methods.client.session.requestPermission, {
            sessionId: params.sessionId,
            toolCall: {
              toolCallId: `call-${turn}`,
              title: permission[2]!,
              kind: 'execute',
              rawInput: { command: permission[2] },
              _meta: { claudeCode: { toolName: permission[1] } },
            },
            options: [
              { optionId: 'yes', name: 'Allow', kind: 'allow_once' },
              { optionId: 'no', name: 'Deny', kind: 'reject_once' },
            ],
          });
          const outcome = response.outcome.outcome === 'selected' ? response.outcome.optionId : 'cancelled';
          actions.push({ permission: permission[1], outcome });
          await say(`permission ${outcome}\n`);
        } else if (busy) {
          const cancelled = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), Number(busy[1]));
            cancelTurn = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          cancelTurn = undefined;
          if (cancelled) stopReason = 'cancelled';
        }
      }
    }
    record({ turn, receivedAt, blocks: texts, actions, stopReason });
    await say(`turn ${turn}: ${texts.length} block${texts.length === 1 ? '' : 's'}\n`);
    return { stopReason };
  });

const connection = app.connect(
  acp.ndJsonStream(
    Writable.toWeb(process.stdout) as WritableStream<Uint8Array>,
    Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>,
  ),
);
await connection.closed;
await Promise.all([...servers.values()].map((c) => c.close()));
process.exit(0);
