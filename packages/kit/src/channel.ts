/**
 * A channel server: the MCP server with the channel capabilities and instructions, the tool
 * registry, event emission with the meta rules, and the permission relay.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  CHANNEL_CAPABILITY,
  EVENT_METHOD,
  PERMISSION_CAPABILITY,
  PERMISSION_VERDICT_METHOD,
  type Behavior,
  type PermissionRequest,
  isUsableMetaKey,
  parseVerdict,
  permissionRequestNotification,
} from './contract.js';
import { type Log, createLog, errorText } from './log.js';
import { type ToolDefinition, ToolRegistry } from './tools.js';

export interface ChannelOptions {
  /** The plugin name; also the prefix of log lines. */
  name: string;
  version?: string;
  /** Goes into the agent's system prompt: what events look like and how to answer. */
  instructions: string;
  tools?: readonly ToolDefinition[];
  /**
   * Receives permission prompts from the host. Setting it declares `claude/channel/permission`:
   * do so only when whoever can answer through this channel is authenticated.
   */
  onPermissionRequest?: (request: PermissionRequest) => void | Promise<void>;
}

export type MetaInput = Record<string, string | number | boolean | null | undefined>;

export class Channel {
  readonly name: string;
  readonly log: Log;
  readonly tools: ToolRegistry;
  private readonly server: Server;
  private connected = false;

  constructor(options: ChannelOptions) {
    this.name = options.name;
    this.log = createLog(options.name);
    this.tools = new ToolRegistry(options.tools);
    const experimental: Record<string, object> = { [CHANNEL_CAPABILITY]: {} };
    if (options.onPermissionRequest) experimental[PERMISSION_CAPABILITY] = {};
    this.server = new Server(
      { name: options.name, version: options.version ?? '1.0.0' },
      {
        capabilities: { experimental, ...(this.tools.size ? { tools: {} } : {}) },
        instructions: options.instructions,
      },
    );
    if (this.tools.size) {
      this.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.tools.list() }));
      this.server.setRequestHandler(CallToolRequestSchema, (request) =>
        this.tools.call(request.params.name, request.params.arguments),
      );
    }
    const onPermissionRequest = options.onPermissionRequest;
    if (onPermissionRequest) {
      this.server.setNotificationHandler(permissionRequestNotification, async ({ params }) => {
        try {
          await onPermissionRequest(params);
        } catch (err) {
          this.log(`could not relay permission request ${params.request_id}: ${errorText(err)}`);
        }
      });
    }
    this.server.onerror = (err) => this.log(`protocol error: ${errorText(err)}`);
  }

  async connect(transport: Transport = new StdioServerTransport()): Promise<void> {
    await this.server.connect(transport);
    this.connected = true;
  }

  /**
   * Pushes an event into the session. Meta values are coerced to strings (the host drops a whole
   * event with one non-string value); keys the host would drop are refused here, with a log line,
   * so the loss is visible at its source. Resolves false when the event could not be written.
   */
  async emit(content: string, meta: MetaInput = {}): Promise<boolean> {
    const cleanMeta: Record<string, string> = {};
    for (const [key, value] of Object.entries(meta)) {
      if (value === undefined || value === null) continue;
      if (!isUsableMetaKey(key)) {
        this.log(`meta key ${JSON.stringify(key)} dropped: keys must be identifiers other than "source"`);
        continue;
      }
      cleanMeta[key] = String(value);
    }
    if (!this.connected) {
      this.log('event dropped: not connected to a host yet');
      return false;
    }
    try {
      await this.server.notification({ method: EVENT_METHOD, params: { content, meta: cleanMeta } });
      return true;
    } catch (err) {
      this.log(`could not deliver event: ${errorText(err)}`);
      return false;
    }
  }

  /** Sends a verdict for a permission request to the host. */
  async sendVerdict(requestId: string, behavior: Behavior): Promise<void> {
    await this.server.notification({
      method: PERMISSION_VERDICT_METHOD,
      params: { request_id: requestId.toLowerCase(), behavior },
    });
  }

  /**
   * If `text` is a verdict (`yes abcde`), sends it and returns it; otherwise returns null and the
   * text is ordinary chat. Callers check the sender is allowed to answer before calling this.
   */
  async consumeVerdict(text: string): Promise<{ request_id: string; behavior: Behavior } | null> {
    const verdict = parseVerdict(text);
    if (verdict) await this.sendVerdict(verdict.request_id, verdict.behavior);
    return verdict;
  }

  async close(): Promise<void> {
    this.connected = false;
    await this.server.close();
  }
}
