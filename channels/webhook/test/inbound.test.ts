/** The request handler on its own, with the session stubbed: what happens when delivery fails. */
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { MetaInput, Verdict } from '@openchannels/kit';
import { BoundedSet } from '../src/bounded-set.js';
import { parseConfig } from '../src/config.js';
import { EventStream } from '../src/events-stream.js';
import { createInboundHandler } from '../src/inbound.js';
import { ReplayGuard } from '../src/verify.js';
import { hmacHex, scratchDir, send } from './helpers.js';

const servers: Server[] = [];
const streams: EventStream[] = [];
after(() => {
  for (const stream of streams) stream.close();
  for (const server of servers) server.close();
});

interface Harness {
  port: number;
  chats: BoundedSet<string>;
  logs: string[];
  emitted: Array<{ content: string; meta: MetaInput }>;
  /** Whether the stubbed session accepts events right now. */
  connected: boolean;
}

async function startHandler(
  consumeVerdict?: (text: string) => Promise<Verdict | null>,
  replays?: ReplayGuard,
): Promise<Harness> {
  const config = parseConfig(
    JSON.stringify({
      sources: { ci: { path: '/ci', verify: { type: 'hmac-sha256', header: 'X-Signature', secretEnv: 'CI', deliveryHeader: 'X-Delivery-Id' } } },
    }),
    'webhook.json',
    () => 'k',
  );
  const logs: string[] = [];
  const stream = new EventStream({ log: (line) => logs.push(line) });
  streams.push(stream);
  const harness: Harness = { port: 0, chats: new BoundedSet(100), logs, emitted: [], connected: false };
  const server = createServer(
    createInboundHandler({
      config,
      stream,
      chats: harness.chats,
      log: (line) => logs.push(line),
      emit: async (content, meta) => {
        if (!harness.connected) return false;
        harness.emitted.push({ content, meta });
        return true;
      },
      consumeVerdict,
      replays,
    }),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  harness.port = (server.address() as { port: number }).port;
  return harness;
}

test('an event the session could not take is answered 503 with Retry-After, and nothing is kept', async () => {
  const harness = await startHandler();
  const response = await send(harness.port, { body: 'build failed' });
  assert.equal(response.status, 503);
  assert.equal(response.headers['retry-after'], '5');
  assert.equal(response.text, 'the Claude Code session is not connected, so the event was not delivered; retry later\n');
  assert.equal(harness.chats.size, 0, 'a chat that never arrived cannot be replied to');
  assert.ok(harness.logs.includes('refused POST /: 503 the Claude Code session is not connected, so the event was not delivered; retry later'));
  harness.connected = true;
  const retry = await send(harness.port, { body: 'build failed' });
  assert.equal(retry.status, 202);
  assert.equal(harness.emitted.length, 1);
  assert.equal(harness.chats.has(harness.emitted[0]!.meta.chat_id as string), true);
});

test('a signed delivery that failed with 503 is accepted when the sender retries it', async () => {
  const harness = await startHandler();
  const body = 'deploy done';
  const headers = { 'x-signature': hmacHex('k', body), 'x-delivery-id': 'once' };
  assert.equal((await send(harness.port, { path: '/ci', headers, body })).status, 503);
  harness.connected = true;
  assert.equal((await send(harness.port, { path: '/ci', headers, body })).status, 202, 'the retry is not a replay');
  assert.equal((await send(harness.port, { path: '/ci', headers, body })).status, 409, 'a second copy is');
  assert.equal(harness.emitted.length, 1);
});

test('after a restart, a delivery that failed with 503 is accepted when retried, and one delivered is refused', async () => {
  const path = join(scratchDir(), 'deliveries.log');
  const restart = () => startHandler(undefined, new ReplayGuard({ persist: { path, log: () => {} } }));
  const signed = (body: string, id: string) => ({ path: '/ci', headers: { 'x-signature': hmacHex('k', body), 'x-delivery-id': id }, body });
  const before = await restart();
  assert.equal((await send(before.port, signed('deploy failed', 'deploy-1'))).status, 503);
  before.connected = true;
  assert.equal((await send(before.port, signed('deploy done', 'deploy-2'))).status, 202);
  const after = await restart();
  after.connected = true;
  assert.equal((await send(after.port, signed('deploy failed', 'deploy-1'))).status, 202, 'the retry is not a replay');
  const replay = await send(after.port, signed('deploy done', 'deploy-2'));
  assert.equal(replay.status, 409);
  assert.equal(replay.text, 'delivery deploy-2 was already received\n');
  assert.deepEqual(after.emitted.map((e) => e.content), ['deploy failed']);
});

test('a verdict that could not reach the session is answered 503', async () => {
  const harness = await startHandler(async () => {
    throw new Error('Not connected');
  });
  const body = 'yes abcde';
  const response = await send(harness.port, { path: '/ci', headers: { 'x-signature': hmacHex('k', body), 'x-delivery-id': 'v1' }, body });
  assert.equal(response.status, 503);
  assert.equal(response.text, 'the verdict could not be sent to the session: Not connected\n');
});
