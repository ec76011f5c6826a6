/**
 * Spawn → `initialize` answered, for each channel as Claude Code starts it (its plugin's
 * .mcp.json), beside a bare `node -e ''` for scale; then each server's idle resident memory.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type ServerSpec, readPluginServers } from '@openchannels/host';
import { RawServer, repoRoot, tempStateDir } from '@openchannels/testkit';
import { fixed, median, percentile, printTable, residentMb, sleep } from './stats.js';

function bareNodeMs(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) =>
    spawn(process.execPath, ['-e', '']).on('exit', () => resolve(performance.now() - started)),
  );
}

function channelSpec(name: string, env: Record<string, string>): ServerSpec {
  const [spec] = readPluginServers(join(repoRoot, 'channels', name));
  const prefix = name.toUpperCase();
  return { ...spec!, env: { [`${prefix}_STATE_DIR`]: tempStateDir(), [`${prefix}_PORT`]: '0', ...env } };
}

async function initializeMs(spec: ServerSpec): Promise<{ ms: number; server: RawServer }> {
  const started = performance.now();
  const server = RawServer.spawn(spec);
  await server.request('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'bench', version: '0' },
  });
  return { ms: performance.now() - started, server };
}

/** `env` gives a channel what it needs to start, e.g. a token and a fake platform's address. */
export async function benchStartup(channels: Record<string, Record<string, string>>, runs: number): Promise<void> {
  const rows: string[][] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) bare.push(await bareNodeMs());
  rows.push(['`node -e \'\'` (scale)', fixed(median(bare)), fixed(percentile(bare, 90)), '-']);
  for (const [name, env] of Object.entries(channels)) {
    const times: number[] = [];
    const memory: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { ms, server } = await initializeMs(channelSpec(name, env));
      times.push(ms);
      if (i < 3) {
        server.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
        await sleep(1000); // idle: started, connected, nothing happening
        memory.push(await residentMb(server.child.pid!));
      }
      server.child.stdin.end();
      await server.exit;
    }
    rows.push([name, fixed(median(times)), fixed(percentile(times, 90)), fixed(median(memory))]);
  }
  printTable(
    `Start-up: spawn → initialize answered (${runs} runs each), and idle memory`,
    ['server', 'median ms', 'p90 ms', 'idle RSS MB'],
    rows,
  );
}
