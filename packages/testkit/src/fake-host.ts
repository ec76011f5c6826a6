/**
 * A fake host: spawns a channel server the way Claude Code does (from a plugin's `.mcp.json`,
 * `${CLAUDE_PLUGIN_ROOT}` expanded), collects its events and verdicts, and calls its tools.
 */
import {
  ChannelConnection,
  PermissionBroker,
  type ServerSpec,
  readPluginServers,
  resultText,
} from '@openchannels/host';
import { type ChannelEvent, type PermissionRequest, type Verdict, inputPreview } from '@openchannels/kit';
import { Mailbox } from './mailbox.js';

export interface FakeHostOptions {
  /** Extra environment for the server (state dir, ports, tokens). */
  env?: Record<string, string>;
}

export interface ToolOutcome {
  text: string;
  isError: boolean;
}

export class FakeHost {
  readonly events = new Mailbox<ChannelEvent>();
  readonly verdicts = new Mailbox<Verdict>();
  readonly stderr = new Mailbox<string>();
  readonly protocolErrors: string[] = [];
  readonly broker = new PermissionBroker();
  private exited = false;
  private constructor(readonly connection: ChannelConnection) {}

  /** Starts the single server of a plugin folder. */
  static async plugin(pluginDir: string, options: FakeHostOptions = {}): Promise<FakeHost> {
    const [spec] = readPluginServers(pluginDir);
    if (!spec) throw new Error(`${pluginDir}/.mcp.json declares no server`);
    return FakeHost.start({ ...spec, env: { ...spec.env, ...options.env } });
  }

  static async start(spec: ServerSpec): Promise<FakeHost> {
    let host: FakeHost | undefined;
    const early: Array<(h: FakeHost) => void> = [];
    const later = (fn: (h: FakeHost) => void) => (host ? fn(host) : early.push(fn));
    const connection = await ChannelConnection.start(spec, {
      onEvent: (event) => later((h) => h.events.push(event)),
      onVerdict: (verdict) => later((h) => h.verdicts.push(verdict)),
      onStderr: (line) => later((h) => h.stderr.push(line)),
      onProtocolError: (message) => later((h) => h.protocolErrors.push(message)),
      onExit: () => later((h) => (h.exited = true)),
    });
    host = new FakeHost(connection);
    for (const fn of early) fn(host);
    return host;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  nextEvent(match?: (event: ChannelEvent) => boolean, timeoutMs?: number): Promise<ChannelEvent> {
    return this.events.next(match, timeoutMs, 'channel event');
  }

  nextVerdict(match?: (verdict: Verdict) => boolean, timeoutMs?: number): Promise<Verdict> {
    return this.verdicts.next(match, timeoutMs, 'permission verdict');
  }

  /** Waits for a stderr line matching `pattern` and returns its match. */
  async stderrMatch(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray> {
    const line = await this.stderr.next((l) => pattern.test(l), timeoutMs, `stderr line ${pattern}`);
    return pattern.exec(line)!;
  }

  async tool(name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
    const result = await this.connection.callTool(name, args);
    return { text: resultText(result), isError: result.isError === true };
  }

  /** Sends a permission request with a fresh id, as a host does when the agent wants a tool. */
  async requestPermission(
    toolName = 'Bash',
    description = 'run a command',
    input: unknown = { command: 'ls' },
  ): Promise<PermissionRequest> {
    const { id } = this.broker.openRequest();
    const request = { request_id: id, tool_name: toolName, description, input_preview: inputPreview(input) };
    await this.connection.sendPermissionRequest(request);
    return request;
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
