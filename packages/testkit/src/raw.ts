/**
 * A channel server spawned with nothing between the test and its pipes, for what the SDK client
 * would hide: every stdout byte, malformed input, exit timing.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { ServerSpec } from '@openchannels/host';
import { Mailbox } from './mailbox.js';

export interface RawMessage {
  jsonrpc?: string;
  id?: number | string;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  params?: Record<string, unknown>;
}

export class RawServer {
  readonly stdoutLines: string[] = [];
  readonly messages = new Mailbox<RawMessage>();
  readonly stderr: string[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private nextId = 1;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      let newline: number;
      while ((newline = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 1);
        this.stdoutLines.push(line);
        try {
          this.messages.push(JSON.parse(line) as RawMessage);
        } catch {
          // kept in stdoutLines; the hygiene test reports it
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
    this.exit = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
  }

  static spawn(spec: ServerSpec): RawServer {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new RawServer(child);
  }

  send(message: object | string): void {
    this.child.stdin.write(typeof message === 'string' ? `${message}\n` : `${JSON.stringify(message)}\n`);
  }

  /** Sends a request and waits for the response with its id. */
  request(method: string, params: object = {}, timeoutMs = 5000): Promise<RawMessage> {
    const id = this.nextId++;
    this.send({ jsonrpc: '2.0', id, method, params });
    return this.messages.next((m) => m.id === id, timeoutMs, `response to ${method}`);
  }

  /** The classic 2025-era handshake: `initialize`, then `notifications/initialized`. */
  async initialize(): Promise<RawMessage> {
    const response = await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: { experimental: { 'claude/channel': {} } },
      clientInfo: { name: 'raw-test-host', version: '0' },
    });
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return response;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
