/** Requests on paths no source claims: what arrives in the session, and what is refused. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChannelEvent } from '@openchannels/kit';
import { RefusedBodies, type Webhook, send, startWebhook } from './helpers.js';

describe('webhook ingress', () => {
  let webhook: Webhook;
  before(async () => {
    webhook = await startWebhook({ config: { maxBodyBytes: 1024, allowedHosts: ['my-tunnel.example'] } });
  });
  after(() => webhook.host.close());

  const refused = new RefusedBodies();
  const marker = (what: string) => refused.next(what);
  const nextEvent = (content: string): Promise<ChannelEvent> => webhook.host.nextEvent((e) => e.content === content);

  test('the curl example arrives as an event with path, method and a fresh chat_id', async () => {
    const response = await send(webhook.port, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'build failed on main',
    });
    assert.equal(response.status, 202);
    assert.match(response.headers['content-type'] ?? '', /^application\/json/);
    const { chat_id } = JSON.parse(response.text) as { chat_id: string };
    assert.match(chat_id, /^wh-[0-9a-z]+-\d+$/);
    const event = await nextEvent('build failed on main');
    assert.deepEqual(event.meta, {
      chat_id,
      path: '/',
      method: 'POST',
      content_type: 'application/x-www-form-urlencoded',
    });
  });

  test('each event gets its own chat_id; PUT, PATCH and query strings are kept in meta', async () => {
    const put = await send(webhook.port, { method: 'PUT', path: '/deploy?env=prod&run=42', body: 'deployed' });
    const patch = await send(webhook.port, { method: 'PATCH', path: '/deploy', body: 'patched' });
    assert.equal(put.status, 202);
    assert.equal(patch.status, 202);
    const putEvent = await nextEvent('deployed');
    assert.equal(putEvent.meta?.method, 'PUT');
    assert.equal(putEvent.meta?.path, '/deploy');
    assert.equal(putEvent.meta?.query, 'env=prod&run=42');
    assert.equal('hook' in (putEvent.meta ?? {}), false, 'no source claims /deploy');
    const patchEvent = await nextEvent('patched');
    assert.equal(patchEvent.meta?.method, 'PATCH');
    assert.notEqual(patchEvent.meta?.chat_id, putEvent.meta?.chat_id);
  });

  test('a JSON body is delivered as sent, with its content type', async () => {
    const body = '{"alert":"disk full","host":"db1"}';
    const response = await send(webhook.port, { path: '/alerts', headers: { 'content-type': 'application/json; charset=utf-8' }, body });
    assert.equal(response.status, 202);
    const event = await nextEvent(body);
    assert.equal(event.meta?.content_type, 'application/json');
  });

  test('GET / explains how to post; other methods are 405 with an Allow header', async () => {
    const help = await send(webhook.port, { method: 'GET' });
    assert.equal(help.status, 200);
    assert.match(help.text, new RegExp(`curl -X POST http://127\\.0\\.0\\.1:${webhook.port}/`));
    const deleted = await send(webhook.port, { method: 'DELETE', path: '/thing' });
    assert.equal(deleted.status, 405);
    assert.equal(deleted.headers.allow, 'POST, PUT, PATCH');
    assert.match(deleted.text, /method DELETE not allowed/);
    const getOther = await send(webhook.port, { method: 'GET', path: '/thing' });
    assert.equal(getOther.status, 405);
  });

  test('a body over maxBodyBytes is refused with 413, declared or streamed', async () => {
    const declared = await send(webhook.port, { body: `${marker('big')}${'x'.repeat(2000)}` });
    assert.equal(declared.status, 413);
    assert.equal(declared.text, 'payload too large: the limit is 1024 bytes\n');
    const streamed = await send(webhook.port, { body: `${marker('big-chunked')}${'y'.repeat(5000)}`, chunked: true });
    assert.equal(streamed.status, 413);
    const exactly = 'z'.repeat(1024);
    assert.equal((await send(webhook.port, { body: exactly })).status, 202, 'the limit itself is allowed');
    await nextEvent(exactly);
  });

  test('a body that is not valid UTF-8 is refused with 400', async () => {
    const body = Buffer.concat([Buffer.from(marker('latin1')), Buffer.from([0xff, 0xfe, 0x41])]);
    const response = await send(webhook.port, { body });
    assert.equal(response.status, 400);
    assert.equal(response.text, 'body is not valid UTF-8\n');
  });

  test('malformed JSON is refused with 400 when the content type says JSON', async () => {
    for (const contentType of ['application/json', 'application/vnd.api+json']) {
      const response = await send(webhook.port, { headers: { 'content-type': contentType }, body: `{"${marker('json')}": ` });
      assert.equal(response.status, 400, contentType);
      assert.match(response.text, /^malformed JSON: /);
    }
    const plain = await send(webhook.port, { headers: { 'content-type': 'text/plain' }, body: '{not json, and not claiming to be' });
    assert.equal(plain.status, 202, 'a text body that looks like broken JSON is just text');
  });

  test('a foreign Host (DNS rebinding) is refused with 403', async () => {
    const response = await send(webhook.port, { headers: { host: 'evil.example' }, body: marker('host') });
    assert.equal(response.status, 403);
    assert.equal(response.text, 'forbidden: Host "evil.example" is not this loopback server\n');
    const otherPort = await send(webhook.port, { headers: { host: '127.0.0.1:1' }, body: marker('port') });
    assert.equal(otherPort.status, 403);
  });

  test('a request from a web page (any Origin) is refused with 403', async () => {
    for (const origin of ['https://evil.example', `http://127.0.0.1:${webhook.port}`, 'null']) {
      const response = await send(webhook.port, { headers: { origin }, body: marker('origin') });
      assert.equal(response.status, 403, origin);
      assert.match(response.text, /^forbidden: requests from web pages/);
    }
  });

  test('allowedHosts admits a tunnel Host', async () => {
    const response = await send(webhook.port, { headers: { host: 'my-tunnel.example' }, body: 'through the tunnel' });
    assert.equal(response.status, 202);
    assert.equal((await nextEvent('through the tunnel')).meta?.path, '/');
  });

  test('refused requests never reach the session, and each is logged on one stderr line', async () => {
    await refused.assertNoneDelivered(webhook.host);
    const refusals = webhook.host.stderr.received.filter((line) => line.startsWith('webhook channel: refused '));
    assert.ok(refusals.some((line) => line === 'webhook channel: refused POST /: 413 payload too large: the limit is 1024 bytes'));
    assert.ok(refusals.some((line) => line === 'webhook channel: refused POST /: 403 forbidden: Host "evil.example" is not this loopback server'));
    assert.ok(refusals.some((line) => line === 'webhook channel: refused DELETE /thing: 405 method DELETE not allowed: POST, PUT or PATCH a body to deliver an event'));
  });
});
