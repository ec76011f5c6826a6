/** The outbound side end to end: the reply tool, GET /events, and the permission relay. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ALERTS_TOKEN,
  SseClient,
  VERIFIED_CONFIG,
  VERIFIED_DOTENV,
  type Webhook,
  ciHeaders,
  send,
  startWebhook,
} from './helpers.js';

describe('replies and permission prompts on /events', () => {
  let webhook: Webhook;
  const listeners: SseClient[] = [];
  before(async () => {
    webhook = await startWebhook({ config: { ...VERIFIED_CONFIG, allowedHosts: ['my-tunnel.example'] }, dotenv: VERIFIED_DOTENV });
  });
  after(async () => {
    for (const listener of listeners) listener.close();
    await webhook.host.close();
  });

  const listen = async (options?: Parameters<typeof SseClient.connect>[1]) => {
    const listener = await SseClient.connect(webhook.port, options);
    listeners.push(listener);
    return listener;
  };

  /** Delivers an event and returns its chat_id. */
  const deliver = async (body: string): Promise<string> => {
    const response = await send(webhook.port, { path: '/', body });
    assert.equal(response.status, 202);
    return (JSON.parse(response.text) as { chat_id: string }).chat_id;
  };

  test('a reply goes out on /events with the chat_id of the event it answers', async () => {
    const listener = await listen();
    const chatId = await deliver('deploy finished');
    await webhook.host.nextEvent((e) => e.meta?.chat_id === chatId);
    const outcome = await webhook.host.tool('reply', { chat_id: chatId, text: 'thanks, checking the logs' });
    assert.equal(outcome.isError, false);
    const [, id] = /^sent \(id: (\S+)\)$/.exec(outcome.text) ?? [];
    assert.ok(id, `result names the id: ${outcome.text}`);
    const reply = await listener.next('reply');
    assert.equal(reply.id, id);
    assert.deepEqual(reply.data, { chat_id: chatId, text: 'thanks, checking the logs' });
  });

  test('a reply to a chat_id the channel never delivered is a tool error', async () => {
    const outcome = await webhook.host.tool('reply', { chat_id: 'wh-nope-1', text: 'hello?' });
    assert.equal(outcome.isError, true);
    assert.equal(outcome.text, 'reply failed: unknown chat_id wh-nope-1');
  });

  test('missing or wrong-typed reply arguments are a tool error naming the field', async () => {
    const missing = await webhook.host.tool('reply', { text: 'no chat' });
    assert.equal(missing.isError, true);
    assert.match(missing.text, /^reply failed: invalid arguments: chat_id: /);
    const wrong = await webhook.host.tool('reply', { chat_id: 'wh-x-1', text: 42 });
    assert.equal(wrong.isError, true);
    assert.match(wrong.text, /^reply failed: invalid arguments: text: /);
  });

  test('a listener that reconnects with Last-Event-ID gets what it missed, and only that', async () => {
    const chatId = await deliver('resume test');
    const first = await listen();
    await webhook.host.tool('reply', { chat_id: chatId, text: 'one' });
    const seen = await first.next('reply', (e) => e.data.text === 'one');
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const missed = await webhook.host.tool('reply', { chat_id: chatId, text: 'two' });
    assert.match(missed.text, /^sent \(id: \S+\)/);
    await webhook.host.tool('reply', { chat_id: chatId, text: 'three' });
    const resumed = await listen({ headers: { 'last-event-id': seen.id! } });
    assert.equal((await resumed.next('reply')).data.text, 'two');
    assert.equal((await resumed.next('reply')).data.text, 'three');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(resumed.events.received.some((e) => e.data.text === 'one'), false, 'nothing before the id is repeated');
  });

  test('?chat_id= narrows replies to one chat', async () => {
    const mine = await deliver('chat A');
    const other = await deliver('chat B');
    const filtered = await listen({ path: `/events?chat_id=${mine}` });
    await webhook.host.tool('reply', { chat_id: other, text: 'for B' });
    await webhook.host.tool('reply', { chat_id: mine, text: 'for A' });
    const reply = await filtered.next('reply');
    assert.deepEqual(reply.data, { chat_id: mine, text: 'for A' });
    assert.equal(filtered.events.received.some((e) => e.data.text === 'for B'), false);
  });

  test('/events is only for listeners on this machine: foreign Host, Origin, tunnel Host, forwarded requests get 403', async () => {
    const refusedHeaders: Array<Record<string, string>> = [
      { host: 'evil.example' },
      { origin: 'https://evil.example' },
      { host: 'my-tunnel.example' },
      { 'x-forwarded-for': '203.0.113.9' },
    ];
    for (const headers of refusedHeaders) {
      const response = await send(webhook.port, { method: 'GET', path: '/events', headers });
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.match(response.text, /^forbidden: /);
    }
    const post = await send(webhook.port, { path: '/events', body: 'not a source' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET');
  });

  test('a permission prompt appears on /events, and a verdict from a verified source answers it', async () => {
    const listener = await listen();
    const request = await webhook.host.requestPermission('Bash', 'list the build directory', { command: 'ls build' });
    const prompt = await listener.next('permission_request');
    assert.deepEqual(prompt.data, {
      request_id: request.request_id,
      tool_name: 'Bash',
      description: 'list the build directory',
      input_preview: '{"command":"ls build"}',
    });
    const body = `yes ${request.request_id}`;
    const response = await send(webhook.port, { path: '/ci', headers: ciHeaders(body), body });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), { verdict: { request_id: request.request_id, behavior: 'allow' } });
    const verdict = await webhook.host.nextVerdict((v) => v.request_id === request.request_id);
    assert.equal(verdict.behavior, 'allow');
    const resolved = await listener.next('permission_resolved');
    assert.deepEqual(resolved.data, { request_id: request.request_id, behavior: 'allow' });
    const events = await webhook.host.events.settle(200);
    assert.equal(events.some((e) => e.content.includes(request.request_id)), false, 'a verdict is not an event');
  });

  test('a JSON {"verdict": ...} body from a bearer source is a verdict too', async () => {
    const request = await webhook.host.requestPermission('Write', 'write notes.md', { file_path: 'notes.md' });
    const body = JSON.stringify({ verdict: `No ${request.request_id.toUpperCase()}` });
    const response = await send(webhook.port, {
      path: '/alerts',
      headers: { authorization: `Bearer ${ALERTS_TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(response.status, 200, response.text);
    const verdict = await webhook.host.nextVerdict((v) => v.request_id === request.request_id);
    assert.equal(verdict.behavior, 'deny');
  });

  test('the same verdict text on an unauthenticated path is an ordinary event, not a verdict', async () => {
    const request = await webhook.host.requestPermission('Bash', 'delete the cache', { command: 'rm -rf cache' });
    const body = `yes ${request.request_id}`;
    const response = await send(webhook.port, { path: '/', body });
    assert.equal(response.status, 202);
    const event = await webhook.host.nextEvent((e) => e.content === body);
    assert.equal(event.meta?.path, '/');
    await webhook.host.verdicts.settle(200);
    assert.equal(webhook.host.verdicts.received.some((v) => v.request_id === request.request_id), false);
  });

  test('with nobody listening, a reply says it waits in the backlog', async () => {
    for (const listener of listeners.splice(0)) listener.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const chatId = await deliver('quiet');
    const outcome = await webhook.host.tool('reply', { chat_id: chatId, text: 'anyone?' });
    assert.equal(outcome.isError, false);
    assert.match(outcome.text, /^sent \(id: \S+\); nobody is listening on \/events right now/);
    const late = await listen({ headers: { 'last-event-id': '0' } });
    await late.next('reply', (e) => e.data.text === 'anyone?');
  });
});
