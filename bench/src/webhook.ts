/**
 * Webhook POST → notification at the host: latency one at a time, unsigned and as signed GitHub
 * deliveries (HMAC check, and the delivery id recorded against replays), then a sustained paced
 * load with every event accounted for and the server's memory sampled each second.
 */
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, type OutgoingHttpHeaders, request } from 'node:http';
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

const GITHUB_SECRET = 'bench-secret';

/** The webhook channel on a free port; with `github`, a GitHub source on /github. */
async function startWebhook(options: { github?: boolean } = {}): Promise<WebhookUnderTest> {
  const [spec] = readPluginServers(join(repoRoot, 'channels/webhook'));
  const stateDir = tempStateDir();
  if (options.github) {
    writeFileSync(
      join(stateDir, 'webhook.json'),
      JSON.stringify({ sources: { github: { path: '/github', verify: { type: 'github', secretEnv: 'GITHUB_WEBHOOK_SECRET' } } } }),
    );
  }
  let handler: (event: ChannelEvent) => void = () => {};
  let announcePort: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => (announcePort = resolve));
  const connection = await ChannelConnection.start(
    { ...spec!, env: { WEBHOOK_STATE_DIR: stateDir, WEBHOOK_PORT: '0', GITHUB_WEBHOOK_SECRET: GITHUB_SECRET } },
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

function post(agent: Agent, port: number, body: string, path = '/', headers: OutgoingHttpHeaders = { 'content-type': 'text/plain' }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A signed GitHub `ping` delivery with a fresh id, as GitHub sends it. */
function githubDelivery(i: number, zen: string): { body: string; headers: OutgoingHttpHeaders } {
  const body = JSON.stringify({ zen, hook_id: 1 });
  const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': `bench-${i}`, 'x-hub-signature-256': signature },
  };
}

/** POST → notification, one at a time, after 200 warm-ups. */
async function measureLatency(iterations: number, github: boolean): Promise<number[]> {
  const webhook = await startWebhook({ github });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  for (let i = 0; i < iterations + 200; i++) {
    const text = `latency probe ${i}`;
    const delivery = githubDelivery(i, text);
    const arrived = new Promise<number>((resolve) =>
      webhook.onEvent((event) => {
        if (event.content.includes(text)) resolve(performance.now());
      }),
    );
    const sent = performance.now();
    const posted = github ? post(agent, webhook.port, delivery.body, '/github', delivery.headers) : post(agent, webhook.port, text);
    const [arrivedAt, status] = await Promise.all([arrived, posted]);
    if (status < 200 || status > 299) throw new Error(`probe ${i} answered ${status}`);
    if (i >= 200) latencies.push(arrivedAt - sent); // the first 200 warm up the JIT
  }
  agent.destroy();
  await webhook.connection.close();
  return latencies;
}

export async function benchWebhookLatency(iterations: number): Promise<void> {
  const rows = [];
  for (const [label, github] of [['unsigned POST /', false], ['signed GitHub delivery (HMAC + replay log)', true]] as const) {
    const latencies = await measureLatency(iterations, github);
    rows.push([label, fixed(percentile(latencies, 50), 3), fixed(percentile(latencies, 90), 3), fixed(percentile(latencies, 99), 3), fixed(Math.max(...latencies), 3)]);
  }
  printTable(`Webhook: POST sent → notification at the host (${iterations} sequential events each)`, ['request', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], rows);
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
