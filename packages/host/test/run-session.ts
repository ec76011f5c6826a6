/** `openchannels run` as a user runs it, with its terminal replaced by pipes and the fake ACP agent. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mailbox, repoRoot, tempStateDir } from '@openchannels/testkit';

export const cli = join(repoRoot, 'packages/host/bin/openchannels.js');
export const fakeAgent = join(repoRoot, 'packages/testkit/dist/src/fake-agent.js');
export const fixture = join(repoRoot, 'packages/testkit/dist/src/fixture-channel.js');

export interface AgentTurn {
  turn: number;
  blocks: string[];
  actions: Array<Record<string, unknown>>;
  stopReason: string;
}

/** `openchannels run` in a project folder whose .mcp.json configures fixture channels. */
export class RunSession {
  readonly lines = new Mailbox<string>();
  readonly exited: Promise<number | null>;
  readonly dir = tempStateDir('run-');
  private readonly log = join(this.dir, 'agent.log');
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(
    args: string[],
    options: { env?: Record<string, string>; servers?: Record<string, Record<string, string>>; agent?: string[] } = {},
  ) {
    const servers = options.servers ?? { alerts: {} };
    const mcpServers = Object.fromEntries(
      Object.entries(servers).map(([name, env]) => [name, { command: process.execPath, args: [fixture, name], env }]),
    );
    writeFileSync(join(this.dir, '.mcp.json'), JSON.stringify({ mcpServers }));
    const agent = options.agent ?? [process.execPath, fakeAgent];
    this.child = spawn(process.execPath, [cli, 'run', ...args, '--', ...agent], {
      cwd: this.dir,
      env: { ...process.env, FAKE_AGENT_LOG: this.log, CLAUDE_CONFIG_DIR: this.dir, ...options.env },
    });
    let partial = '';
    const collect = (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) this.lines.push(line);
    };
    this.child.stdout.on('data', collect);
    this.child.stderr.on('data', collect);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  expect(pattern: RegExp, timeoutMs = 8000): Promise<string> {
    return this.lines.next((line) => pattern.test(line), timeoutMs, `terminal line ${pattern}`);
  }

  turns(): AgentTurn[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AgentTurn & { session?: unknown })
      .filter((entry) => entry.turn !== undefined);
  }

  async turn(n: number, timeoutMs = 8000): Promise<AgentTurn> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.turns().find((t) => t.turn === n);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`the agent never finished turn ${n}; turns: ${JSON.stringify(this.turns())}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async quit(): Promise<number | null> {
    this.type('/quit');
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

