/**
 * The MCP server an agent starts for one channel: `node tool-proxy.mjs <socket> <channel>` (bundled).
 * It serves the channel's tools and instructions, forwarding each call to the host that runs
 * the channel. It exits when the agent closes its stdin or the host goes away.
 */
import { connect } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { type ListedTool, type ToolResult, jsonLine, onJsonLines } from '@openchannels/kit';
import type { BridgeRequest } from './tool-bridge.js';

const [socketPath, channel] = process.argv.slice(2);
if (!socketPath || !channel) {
  process.stderr.write('usage: tool-proxy.mjs <socket> <channel>\n');
  process.exit(2);
}

const socket = connect(socketPath);
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
let nextId = 1;
onJsonLines(
  socket,
  (message) => {
    const reply = message as { id: number; result?: unknown; error?: string };
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply.result);
  },
  (line) => process.stderr.write(`${channel} tool proxy: ignored a malformed reply: ${line.slice(0, 80)}\n`),
);
socket.on('error', (err) => {
  process.stderr.write(`${channel} tool proxy: host unreachable: ${err.message}\n`);
  process.exit(1);
});
socket.on('close', () => process.exit(0));

type Request = BridgeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

function ask<T>(request: Request): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    socket.write(jsonLine({ id, ...request }));
  });
}

const described = await ask<{ instructions: string; tools: ListedTool[] }>({ method: 'describe', channel });
const server = new Server(
  { name: channel, version: '1.0.0' },
  { capabilities: { tools: {} }, instructions: described.instructions || undefined },
);
server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: described.tools }));
server.setRequestHandler(CallToolRequestSchema, (request) =>
  ask<ToolResult>({
    method: 'call',
    channel,
    tool: request.params.name,
    arguments: (request.params.arguments ?? {}) as Record<string, unknown>,
  }),
);
await server.connect(new StdioServerTransport());
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
