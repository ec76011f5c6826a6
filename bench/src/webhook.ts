/**
 * Webhook POST → notification at the host: latency one at a time, then a sustained paced load
 * with every event accounted for and the server's memory sampled each second.
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { ChannelConnection, readPluginServers } from '@openchannels/host';
import type { ChannelEvent } from '@openchannels/kit';
import { repoRoot, tempStateDir } from '@openchannels/testkit';
import { fixed, percentile, printTable, residentMb, sleep } from './stats.js';

interface WebhookUnderTest {
  connection: ChannelConnection;
  port: number;
  onEvent: (handler: (event: ChannelEvent) => void) => void;
}

async function startWebhook(): Promise<WebhookUnderTest> {
  const [spec] = readPluginServers(join(repoRoot, 'channels/webhook'));
  let handler: (event: ChannelEvent) => void = () => {};
  let announcePort: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => (announcePort = resolve));
  const connection = await ChannelConnection.start(
    { ...spec!, env: { WEBHOOK_STATE_DIR: tempStateDir(), WEBHOOK_PORT: '0' } },
    {
      onEvent: (event) => handler(event),
      onStderr: (line) => {
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (match) announcePort(Number(match[1]));
      },
    },
  );
  return { connection, port: await listening, onEvent: (h) => (handler = h) };
}

function post(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'text/plain' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function benchWebhookLatency(iterations: number): Promise<void> {
  const webhook = await startWebhook();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  for (let i = 0; i < iterations + 200; i++) {
    const body = `latency probe ${i}`;
    const arrived = new Promise<number>((resolve) =>
      webhook.onEvent((event) => {
        if (event.content === body) resolve(performance.now());
      }),
    );
    const sent = performance.now();
    const [arrivedAt] = await Promise.all([arrived, post(agent, webhook.port, body)]);
    if (i >= 200) latencies.push(arrivedAt - sent); // the first 200 warm up the JIT
  }
  agent.destroy();
  await webhook.connection.close();
  printTable(
    `Webhook: POST sent → notification at the host (${iterations} sequential events)`,
    ['p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    [[fixed(percentile(latencies, 50), 3), fixed(percentile(latencies, 90), 3), fixed(percentile(latencies, 99), 3), fixed(Math.max(...latencies), 3)]],
  );
}

export async function benchWebhookThroughput(ratePerSecond: number, seconds: number): Promise<void> {
  const webhook = await startWebhook();
  const pid = webhook.connection.pid!;
  const delivered = new Set<string>();
  webhook.onEvent((event) => delivered.add(event.content));
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const tickMs = 10;
  const perTick = Math.round((ratePerSecond * tickMs) / 1000);
  let sent = 0;
  let accepted = 0;
  let refused = 0;
  const memory: number[] = [await residentMb(pid)];
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let tick = 0; tick < (seconds * 1000) / tickMs; tick++) {
    // Paced against the clock, so a slow tick is caught up rather than stretching the run.
    const due = started + tick * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    for (let i = 0; i < perTick; i++) {
      const body = `event ${sent++}`;
      const pending: Promise<void> = post(agent, webhook.port, body)
        .then((status) => (status >= 200 && status < 300 ? accepted++ : refused++))
        .catch(() => refused++)
        .then(() => void inFlight.delete(pending));
      inFlight.add(pending);
    }
    if (tick % (1000 / tickMs) === 0 && tick > 0) memory.push(await residentMb(pid));
  }
  await Promise.all(inFlight);
  const sendingMs = performance.now() - started;
  const deadline = Date.now() + 5000;
  while (delivered.size < accepted && Date.now() < deadline) await sleep(20);
  memory.push(await residentMb(pid));
  agent.destroy();
  await webhook.connection.close();
  printTable(
    `Webhook: sustained load, ${ratePerSecond} events/s offered for ${seconds} s`,
    ['sent', 'accepted', 'refused', 'delivered', 'lost', 'achieved events/s', 'RSS MB first → max → last'],
    [[
      String(sent),
      String(accepted),
      String(refused),
      String(delivered.size),
      String(accepted - delivered.size),
      fixed(delivered.size / (sendingMs / 1000), 0),
      `${fixed(memory[0]!)} → ${fixed(Math.max(...memory))} → ${fixed(memory.at(-1)!)}`,
    ]],
  );
}
