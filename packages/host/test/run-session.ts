/** `openchannels run` as a user runs it, with its terminal replaced by pipes and the fake ACP agent. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerminalProcess, repoRoot, tempStateDir } from '@openchannels/testkit';

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
export class RunSession extends TerminalProcess {
  readonly dir: string;
  private readonly log: string;

  constructor(
    args: string[],
    options: { env?: Record<string, string>; servers?: Record<string, Record<string, string>>; agent?: string[] } = {},
  ) {
    const dir = tempStateDir('run-');
    const log = join(dir, 'agent.log');
    const servers = options.servers ?? { alerts: {} };
    const mcpServers = Object.fromEntries(
      Object.entries(servers).map(([name, env]) => [name, { command: process.execPath, args: [fixture, name], env }]),
    );
    writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers }));
    const agent = options.agent ?? [process.execPath, fakeAgent];
    super(process.execPath, [cli, 'run', ...args, '--', ...agent], {
      cwd: dir,
      env: { FAKE_AGENT_LOG: log, CLAUDE_CONFIG_DIR: dir, ...options.env },
    });
    this.dir = dir;
    this.log = log;
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

}

