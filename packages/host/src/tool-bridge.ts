/**
 * How an agent reaches the tools of channels that stay the host's children: the agent starts one
 * small MCP server per channel (tool-proxy.ts, bundled), which forwards `tools/list` and `tools/call` to
 * the host over a private local socket. The agent sees each channel under its own name, with its
 * tools and instructions, as if it had started the channel itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ToolResult, errorText, jsonLine, onJsonLines, textResult } from '@openchannels/kit';
import type { McpServerStdio } from '@agentclientprotocol/sdk';
import type { ChannelConnection } from './connection.js';

/** tool-proxy.ts bundled by scripts/build.mjs (beside dist/src/): it starts in about half the time of the module tree. */
export const TOOL_PROXY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../tool-proxy.mjs');

/** One line of the bridge protocol, from a proxy. */
export type BridgeRequest =
  | { id: number; method: 'describe'; channel: string }
  | { id: number; method: 'call'; channel: string; tool: string; arguments: Record<string, unknown> };

export interface ToolCallSeen {
  channel: string;
  tool: string;
  arguments: Record<string, unknown>;
  result: ToolResult;
}

/** An `mcpServers` entry of an ACP `session/new` request. */
export type StdioMcpServer = McpServerStdio;

export class ToolBridge {
  private constructor(
    private readonly server: Server,
    private readonly dir: string | undefined,
    readonly socketPath: string,
  ) {}

  static async start(
    channels: ReadonlyMap<string, ChannelConnection>,
    onCall: (call: ToolCallSeen) => void = () => {},
  ): Promise<ToolBridge> {
    // A folder only this user can enter keeps other users away from the socket.
    const dir = process.platform === 'win32' ? undefined : mkdtempSync(join(tmpdir(), 'openchannels-'));
    const socketPath = dir ? join(dir, 'tools.sock') : `\\\\.\\pipe\\openchannels-${process.pid}-${Date.now()}`;
    const server = createServer((socket) => serve(socket, channels, onCall));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    return new ToolBridge(server, dir, socketPath);
  }

  /** The `mcpServers` entry that lets the agent reach one channel's tools. */
  mcpServerFor(channel: string): StdioMcpServer {
    return { name: channel, command: process.execPath, args: [TOOL_PROXY_SCRIPT, this.socketPath, channel], env: [] };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function serve(socket: Socket, channels: ReadonlyMap<string, ChannelConnection>, onCall: (call: ToolCallSeen) => void) {
  const answer = (id: number, body: { result: unknown } | { error: string }) => {
    if (!socket.destroyed) socket.write(jsonLine({ id, ...body }));
  };
  const handle = async (request: BridgeRequest) => {
    const channel = channels.get(request.channel);
    if (!channel) return answer(request.id, { error: `no channel named ${request.channel}` });
    if (request.method === 'describe') {
      return answer(request.id, { result: { instructions: channel.instructions, tools: await channel.listTools() } });
    }
    let result: ToolResult;
    try {
      result = await channel.callTool(request.tool, request.arguments);
    } catch (err) {
      result = textResult(`${request.tool} failed: ${errorText(err)}`, true);
    }
    onCall({ channel: request.channel, tool: request.tool, arguments: request.arguments, result });
    answer(request.id, { result });
  };
  onJsonLines(
    socket,
    (message) => {
      const request = message as BridgeRequest;
      handle(request).catch((err) => answer(request.id, { error: errorText(err) }));
    },
    () => socket.destroy(),
  );
  socket.on('error', () => socket.destroy());
}
