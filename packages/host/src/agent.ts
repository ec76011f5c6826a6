/**
 * The agent behind the host: any program that speaks the Agent Client Protocol on stdio, started
 * as a child, given one session whose MCP servers are the channels' tool proxies.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import { errorText } from '@openchannels/kit';
import type { StdioMcpServer } from './tool-bridge.js';

export interface AgentHandlers {
  onUpdate(update: acp.SessionUpdate): void;
  requestPermission(request: acp.RequestPermissionRequest, signal: AbortSignal): Promise<acp.RequestPermissionResponse>;
  onStderr?(line: string): void;
  /** The agent went away on its own. */
  onExit?(code: number | null): void;
}

export interface AgentOptions {
  command: string;
  args: string[];
  cwd: string;
  mcpServers: StdioMcpServer[];
  handlers: AgentHandlers;
}

export class AcpAgent {
  private closing = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly connection: acp.ClientConnection,
    readonly sessionId: string,
    readonly info: acp.InitializeResponse,
  ) {}

  static async start({ command, args, cwd, mcpServers, handlers }: AgentOptions): Promise<AcpAgent> {
    const child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const stderrTail: string[] = [];
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        handlers.onStderr?.(line);
      }
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`could not start the agent ${command}: ${err.message}`)));
    });
    await spawned;

    const stream = acp.ndJsonStream(
      Writable.toWeb(child.stdin) as WritableStream<Uint8Array>,
      Readable.toWeb(child.stdout) as unknown as ReadableStream<Uint8Array>,
    );
    const app = acp
      .client({ name: 'openchannels' })
      // Parsed leniently: agents built on older or newer ACP releases send update kinds this SDK
      // does not know, and those are simply not shown rather than reported as errors.
      .onNotification(
        acp.methods.client.session.update,
        (params: unknown) => params as acp.SessionNotification,
        ({ params }) => handlers.onUpdate(params.update),
      )
      .onRequest(acp.methods.client.session.requestPermission, ({ params, signal }) =>
        handlers.requestPermission(params, signal),
      );
    const connection = app.connect(stream);
    let exitCode: number | null | undefined;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => {
        exitCode = code;
        reject(new Error(`exited with code ${code}`));
      }),
    );
    exited.catch(() => {});
    // Each step fails with the agent's own last words if it dies or refuses.
    const step = async <T>(what: string, request: Promise<T>): Promise<T> => {
      try {
        return await Promise.race([request, exited]);
      } catch (err) {
        // The connection may notice before the process is reaped: give the exit a moment.
        await Promise.race([exited.catch(() => {}), new Promise((r) => setTimeout(r, 200))]);
        const why = exitCode !== undefined ? `exited with code ${exitCode}` : errorText(err);
        child.kill();
        const tail = stderrTail.slice(-5).join('\n');
        throw new Error(`the agent failed to ${what}: ${why}${tail ? `\n${tail}` : ''}`);
      }
    };
    const initialize = connection.agent.request(acp.methods.agent.initialize, {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      clientInfo: { name: 'openchannels', version: '0.1.0' },
    });
    const info = await step('initialize', initialize);
    const newSession = connection.agent.request(acp.methods.agent.session.new, { cwd, mcpServers });
    const session = await step('start a session', newSession);
    const agent = new AcpAgent(child, connection, session.sessionId, info);
    child.once('exit', (code) => {
      if (!agent.closing) handlers.onExit?.(code);
    });
    return agent;
  }

  /** Runs one turn; resolves when the agent ends it. */
  async prompt(prompt: acp.ContentBlock[]): Promise<acp.StopReason> {
    const response = await this.connection.agent.request(acp.methods.agent.session.prompt, {
      sessionId: this.sessionId,
      prompt,
    });
    return response.stopReason;
  }

  async cancel(): Promise<void> {
    await this.connection.agent.notify(acp.methods.agent.session.cancel, { sessionId: this.sessionId });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.connection.close();
    this.child.stdin.end();
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    const timer = setTimeout(() => this.child.kill('SIGTERM'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
