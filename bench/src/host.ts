/**
 * The host: `openchannels run` with four channels (fakechat, webhook and two scripted ones, all
 * started in parallel) in front of the fake ACP agent. Start-up until the session is ready, the
 * host's own memory, and a webhook event → the prompt at an idle agent.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerminalProcess, repoRoot, tempStateDir } from '@openchannels/testkit';
import { fixed, median, percentile, printTable, residentMb, sleep } from './stats.js';

const cli = join(repoRoot, 'packages/host/bin/openchannels.js');
const fakeAgent = join(repoRoot, 'packages/testkit/dist/src/fake-agent.js');
const fixture = join(repoRoot, 'packages/testkit/dist/src/fixture-channel.js');

interface RunningHost {
  terminal: TerminalProcess;
  log: string;
  readyMs: number;
  webhookPort: number;
}

async function startHost(): Promise<RunningHost> {
  const dir = tempStateDir('bench-host-');
  const log = join(dir, 'agent.log');
  writeFileSync(
    join(dir, '.mcp.json'),
    JSON.stringify({ mcpServers: { a: { command: process.execPath, args: [fixture, 'a'] }, b: { command: process.execPath, args: [fixture, 'b'] } } }),
  );
  const started = performance.now();
  const terminal = new TerminalProcess(
    process.execPath,
    [cli, 'run', '--channels', 'plugin:fakechat@openchannels', 'plugin:webhook@openchannels',
      '--dangerously-load-development-channels', 'server:a', 'server:b', '--', process.execPath, fakeAgent],
    {
      cwd: dir,
      env: {
        FAKE_AGENT_LOG: log,
        FAKECHAT_STATE_DIR: join(dir, 'fakechat'),
        FAKECHAT_PORT: '0',
        WEBHOOK_STATE_DIR: join(dir, 'webhook'),
        WEBHOOK_PORT: '0',
      },
    },
  );
  terminal.type('y');
  const webhookLine = await terminal.expect(/\[webhook\] .*listening on http:\/\/127\.0\.0\.1:\d+/, 15000);
  await terminal.expect(/^· ready/, 15000);
  const readyMs = performance.now() - started;
  return { terminal, log, readyMs, webhookPort: Number(/:(\d+)\s*$/.exec(webhookLine)![1]) };
}

function turnsOf(log: string): Array<{ turn: number; receivedAt: number }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { turn?: number; receivedAt: number })
    .filter((entry): entry is { turn: number; receivedAt: number } => entry.turn !== undefined);
}

export async function benchHost(runs: number, events: number): Promise<void> {
  const startups: number[] = [];
  const memory: number[] = [];
  for (let i = 0; i < runs; i++) {
    const host = await startHost();
    startups.push(host.readyMs);
    await sleep(500);
    memory.push(await residentMb(host.terminal.pid!));
    host.terminal.type('/quit');
    await host.terminal.exited;
  }
  const host = await startHost();
  const latencies: number[] = [];
  for (let i = 1; i <= events; i++) {
    const sentAt = performance.timeOrigin + performance.now();
    await fetch(`http://127.0.0.1:${host.webhookPort}/`, { method: 'POST', body: `probe ${i}` });
    let turn: { receivedAt: number } | undefined;
    while (!(turn = turnsOf(host.log).find((t) => t.turn === i))) await sleep(2);
    if (i > 10) latencies.push(turn.receivedAt - sentAt); // the first few warm up
    await sleep(5); // the turn has ended: the agent is idle again
  }
  host.terminal.type('/quit');
  await host.terminal.exited;
  printTable(
    `Host: openchannels run with 4 channels and an ACP agent (${runs} start-ups, ${events} events)`,
    ['start-up to ready, median ms', 'host RSS MB', 'webhook POST → prompt at idle agent p50 ms', 'p90 ms', 'p99 ms'],
    [[fixed(median(startups)), fixed(median(memory)), fixed(percentile(latencies, 50), 2), fixed(percentile(latencies, 90), 2), fixed(percentile(latencies, 99), 2)]],
  );
}
