/**
 * One channel server as a host sees it: spawned over stdio, initialized with the classic MCP
 * handshake, its events and permission verdicts handed to callbacks, its tools callable.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CHANNEL_CAPABILITY,
  PERMISSION_CAPABILITY,
  PERMISSION_REQUEST_METHOD,
  type ChannelEvent,
  type ListedTool,
  type PermissionRequest,
  type ToolResult,
  type Verdict,
  errorText,
  eventNotification,
  verdictNotification,
} from '@openchannels/kit';
import type { ServerSpec } from './plugins.js';

export interface ConnectionHandlers {
  onEvent?(event: ChannelEvent): void;
  onVerdict?(verdict: Verdict): void;
  /** Each line the server writes to stderr. */
  onStderr?(line: string): void;
  /** The server went away without being closed. */
  onExit?(): void;
  /** Protocol trouble, e.g. an event whose shape breaks the contract (dropped). */
  onProtocolError?(message: string): void;
}

export class ChannelConnection {
  private closing = false;

  private constructor(
    readonly spec: ServerSpec,
    private readonly client: Client,
    private readonly transport: StdioClientTransport,
  ) {}

  /** Spawns the server and completes `initialize`; rejects with the server's stderr on failure. */
  static async start(spec: ServerSpec, handlers: ConnectionHandlers = {}): Promise<ChannelConnection> {
    const transport = new StdioClientTransport({
      command: spec.command,
      args: spec.args,
      env: { ...(process.env as Record<string, string>), ...spec.env },
      cwd: spec.cwd,
      stderr: 'pipe',
    });
    const stderrLines: string[] = [];
    let partial = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      let newline: number;
      while ((newline = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 1);
        stderrLines.push(line);
        if (stderrLines.length > 50) stderrLines.shift();
        handlers.onStderr?.(line);
      }
    });
    const client = new Client(
      { name: 'openchannels', version: '0.1.0' },
      { capabilities: { experimental: { [CHANNEL_CAPABILITY]: {} } } },
    );
    const connection = new ChannelConnection(spec, client, transport);
    client.setNotificationHandler(eventNotification, ({ params }) => handlers.onEvent?.(params));
    client.setNotificationHandler(verdictNotification, ({ params }) => handlers.onVerdict?.(params));
    client.onerror = (err) => handlers.onProtocolError?.(errorText(err));
    client.onclose = () => {
      if (!connection.closing) handlers.onExit?.();
    };
    try {
      await client.connect(transport);
    } catch (err) {
      await client.close().catch(() => {});
      await new Promise((r) => setTimeout(r, 50)); // let the last stderr lines arrive
      const tail = stderrLines.slice(-5).join('\n');
      throw new Error(`channel ${spec.name} did not start: ${errorText(err)}${tail ? `\n${tail}` : ''}`);
    }
    return connection;
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.transport.pid;
  }

  /** Declares `claude/channel`: its events may reach the agent. */
  get isChannel(): boolean {
    return CHANNEL_CAPABILITY in (this.client.getServerCapabilities()?.experimental ?? {});
  }

  /** Declares `claude/channel/permission`: it can show permission prompts and answer them. */
  get relaysPermissions(): boolean {
    return PERMISSION_CAPABILITY in (this.client.getServerCapabilities()?.experimental ?? {});
  }

  get instructions(): string {
    return this.client.getInstructions() ?? '';
  }

  async listTools(): Promise<ListedTool[]> {
    if (!this.client.getServerCapabilities()?.tools) return [];
    const { tools } = await this.client.listTools();
    return tools as ListedTool[];
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    return (await this.client.callTool({ name, arguments: args })) as ToolResult;
  }

  async sendPermissionRequest(request: PermissionRequest): Promise<void> {
    await this.client.notification({ method: PERMISSION_REQUEST_METHOD, params: request });
  }

  /** Closes stdin and waits for the server to exit (SIGTERM, then SIGKILL, if it lingers). */
  async close(): Promise<void> {
    this.closing = true;
    await this.client.close();
  }
}

/** The text of a tool result, joined. */
export function resultText(result: ToolResult): string {
  return result.content.map((part) => part.text).join('\n');
}
