/** The outbound stream on its own: backlog limits, stale ids, keepalive, and listeners that stop reading. */
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import { after, test } from 'node:test';
import { EventStream, type EventStreamOptions } from '../src/events-stream.js';
import { SseClient } from './helpers.js';

const cleanups: Array<() => void> = [];
after(() => {
  for (const cleanup of cleanups) cleanup();
});

async function serve(options: Partial<EventStreamOptions> = {}): Promise<{ stream: EventStream; port: number; logs: string[] }> {
  const logs: string[] = [];
  const stream = new EventStream({ log: (line) => logs.push(line), ...options });
  const server: Server = createServer((req, res) => stream.attach(res, { lastEventId: req.headers['last-event-id'] as string | undefined }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    stream.close();
    server.close();
  });
  return { stream, port: (server.address() as { port: number }).port, logs };
}

test('resuming from an id that left the backlog says so with a gap event, then sends what is left', async () => {
  const { stream, port } = await serve({ backlogSize: 2 });
  const ids = ['a', 'b', 'c', 'd'].map((text) => stream.publish('reply', { chat_id: 'x', text }, 'x'));
  const client = await SseClient.connect(port, { headers: { 'last-event-id': ids[0]! } });
  cleanups.push(() => client.close());
  const gap = await client.events.next();
  assert.equal(gap.event, 'gap');
  assert.match(gap.data.reason!, /no longer in the backlog \(it keeps the last 2\)/);
  assert.deepEqual([(await client.next('reply')).data.text, (await client.next('reply')).data.text], ['c', 'd']);
});

test('an id from an earlier run of the server replays the whole backlog, without a gap', async () => {
  const { stream, port } = await serve();
  stream.publish('permission_request', { request_id: 'abcde', tool_name: 'Bash', description: 'ls', input_preview: '{}' });
  const client = await SseClient.connect(port, { headers: { 'last-event-id': 'zzzzzzzz-900' } });
  cleanups.push(() => client.close());
  const first = await client.events.next();
  assert.equal(first.event, 'permission_request');
  assert.equal(first.data.request_id, 'abcde');
});

test('a new listener without Last-Event-ID gets only what comes next, and keepalive comments', async () => {
  const { stream, port } = await serve({ keepaliveMs: 50 });
  stream.publish('reply', { chat_id: 'x', text: 'old' }, 'x');
  const client = await SseClient.connect(port);
  cleanups.push(() => client.close());
  stream.publish('reply', { chat_id: 'x', text: 'new' }, 'x');
  assert.equal((await client.next('reply')).data.text, 'new');
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.ok(client.comments.includes('keepalive'), `comments: ${client.comments.join(', ')}`);
  assert.equal(client.events.received.some((e) => e.data.text === 'old'), false);
});

test('a listener that stops reading is cut off instead of buffering without bound', async () => {
  const { stream, port, logs } = await serve({ maxBufferedBytes: 256 * 1024, backlogSize: 10 });
  const client = await SseClient.connect(port);
  client.response.pause();
  const big = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 400 && stream.listenerCount > 0; i++) stream.publish('reply', { chat_id: 'x', text: big }, 'x');
  assert.equal(stream.listenerCount, 0);
  assert.ok(logs.some((line) => line.startsWith('cut off an /events listener that is not reading')));
  client.close();
});
