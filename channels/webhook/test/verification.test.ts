/**
 * Named sources end to end: GitHub, Stripe, Slack, generic HMAC and bearer verification, replays
 * (also across restarts), GitHub events and Slack's URL verification handshake.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ALERTS_TOKEN,
  CI_SECRET,
  STRIPE_SECRET,
  VERIFIED_CONFIG,
  VERIFIED_DOTENV,
  type Setup,
  type Webhook,
  ciHeaders,
  githubHeaders,
  RefusedBodies,
  hmacHex,
  scratchDir,
  send,
  slackHeaders,
  startWebhook,
  stripeEventId,
  stripeHeaders,
} from './helpers.js';
import { pullRequestOpened, push } from './github-payloads.js';

describe('verified sources', () => {
  let webhook: Webhook;
  before(async () => {
    webhook = await startWebhook({ config: VERIFIED_CONFIG, dotenv: VERIFIED_DOTENV });
  });
  after(() => webhook.host.close());

  const refused = new RefusedBodies();
  const marker = (what: string) => refused.next(what);
  const post = (path: string, headers: Record<string, string>, body: string) => send(webhook.port, { path, headers, body });

  test('a signed GitHub push arrives as a readable summary with GitHub meta', async () => {
    const body = JSON.stringify(push);
    const headers = githubHeaders('push', body);
    const response = await post('/github', headers, body);
    assert.equal(response.status, 202, response.text);
    const { chat_id } = JSON.parse(response.text) as { chat_id: string };
    const event = await webhook.host.nextEvent((e) => e.meta?.chat_id === chat_id);
    assert.equal(
      event.content,
      'alice pushed 3 commits to main in acme/app: Bump version to 1.4.0\nhttps://github.com/acme/app/compare/6113728f27ae...0d1a26e67d8f',
    );
    assert.deepEqual(event.meta, {
      chat_id,
      path: '/github',
      method: 'POST',
      hook: 'github',
      event: 'push',
      repository: 'acme/app',
      sender: 'alice',
      delivery: headers['x-github-delivery'],
      content_type: 'application/json',
    });
  });

  test('a signed pull_request event names the action, number and title', async () => {
    const body = JSON.stringify(pullRequestOpened);
    const response = await post('/github', githubHeaders('pull_request', body), body);
    assert.equal(response.status, 202, response.text);
    const event = await webhook.host.nextEvent((e) => e.meta?.event === 'pull_request');
    assert.equal(
      event.content,
      'alice opened pull request #12 in acme/app: Retry uploads on 503\nUploads fail when the store is busy.\r\nThis retries three times with backoff.\nhttps://github.com/acme/app/pull/12',
    );
    assert.equal(event.meta?.action, 'opened');
    assert.equal(event.meta?.repository, 'acme/app');
  });

  test('a form-encoded GitHub delivery is read from its payload field', async () => {
    const body = new URLSearchParams({ payload: JSON.stringify(push) }).toString();
    const headers: Record<string, string> = { ...githubHeaders('push', body), 'content-type': 'application/x-www-form-urlencoded' };
    const response = await post('/github', headers, body);
    assert.equal(response.status, 202, response.text);
    const event = await webhook.host.nextEvent((e) => e.meta?.delivery === headers['x-github-delivery']);
    assert.match(event.content, /^alice pushed 3 commits to main in acme\/app/);
  });

  test('a wrong or missing GitHub signature is refused with 401', async () => {
    const body = JSON.stringify({ ...push, ref: `refs/heads/${marker('gh-wrong')}` });
    const forged = await post('/github', githubHeaders('push', body, 'not-the-secret'), body);
    assert.equal(forged.status, 401);
    assert.equal(forged.text, "X-Hub-Signature-256 does not match the body and this source's secret\n");
    const { 'x-hub-signature-256': _dropped, ...unsigned } = githubHeaders('push', body);
    const missing = await post('/github', unsigned, body);
    assert.equal(missing.status, 401);
    assert.match(missing.text, /^missing X-Hub-Signature-256 header/);
    const tampered = await post('/github', githubHeaders('push', body), body.replace('alice', 'mallory'));
    assert.equal(tampered.status, 401, 'a body changed after signing');
  });

  test('paths below a source belong to it and need its verification', async () => {
    const body = marker('subpath');
    const response = await post('/github/hooks/1', { 'content-type': 'text/plain' }, body);
    assert.equal(response.status, 401);
    const signedBody = JSON.stringify(push);
    const signed = await post('/github/hooks/1', githubHeaders('push', signedBody), signedBody);
    assert.equal(signed.status, 202);
    const event = await webhook.host.nextEvent((e) => e.meta?.path === '/github/hooks/1');
    assert.equal(event.meta?.hook, 'github');
  });

  test('a replayed GitHub delivery is refused with 409 and delivered once', async () => {
    const body = JSON.stringify({ ...push, ref: 'refs/heads/replayed' });
    const headers = githubHeaders('push', body);
    assert.equal((await post('/github', headers, body)).status, 202);
    const again = await post('/github', headers, body);
    assert.equal(again.status, 409);
    assert.equal(again.text, `delivery ${headers['x-github-delivery']} was already received\n`);
    const events = await webhook.host.events.settle(300);
    assert.equal(events.filter((e) => e.meta?.delivery === headers['x-github-delivery']).length, 1);
  });

  test('generic HMAC: a fresh signed timestamp is accepted, with the delivery id in meta', async () => {
    const body = 'nightly build failed: 3 tests';
    const headers = ciHeaders(body);
    const response = await post('/ci', headers, body);
    assert.equal(response.status, 202, response.text);
    const event = await webhook.host.nextEvent((e) => e.content === body);
    assert.equal(event.meta?.hook, 'ci');
    assert.equal(event.meta?.delivery, headers['x-delivery-id']);
    const bareBody = 'signed without the sha256= prefix';
    const bare = ciHeaders(bareBody);
    bare['x-signature'] = hmacHex(CI_SECRET, `${bare['x-timestamp']}.`, bareBody);
    assert.equal((await post('/ci', bare, bareBody)).status, 202, 'a bare hex digest works too');
  });

  test('generic HMAC: stale timestamps, unsigned timestamps and bad signatures are refused with 401', async () => {
    const stale = marker('stale');
    const staleResponse = await post('/ci', ciHeaders(stale, { timestamp: Math.floor(Date.now() / 1000) - 301 }), stale);
    assert.equal(staleResponse.status, 401);
    assert.match(staleResponse.text, /^X-Timestamp is 30[12] s away from this server's clock; the tolerance is 300 s/);
    const future = marker('future');
    assert.equal((await post('/ci', ciHeaders(future, { timestamp: Math.floor(Date.now() / 1000) + 3600 }), future)).status, 401);

    const moved = marker('moved');
    const headers = ciHeaders(moved);
    headers['x-timestamp'] = String(Number(headers['x-timestamp']) + 5); // the signature covers the timestamp
    const movedResponse = await post('/ci', headers, moved);
    assert.equal(movedResponse.status, 401);
    assert.match(movedResponse.text, /^X-Signature does not match/);

    const bodyOnly = marker('body-only');
    const { 'x-signature': _s, ...rest } = ciHeaders(bodyOnly);
    const bodyOnlyResponse = await post('/ci', { ...rest, 'x-signature': hmacHex(CI_SECRET, bodyOnly) }, bodyOnly);
    assert.equal(bodyOnlyResponse.status, 401, 'the signed string is <timestamp>.<body>');

    const noTimestamp = marker('no-timestamp');
    const { 'x-timestamp': _t, ...withoutTimestamp } = ciHeaders(noTimestamp);
    const noTimestampResponse = await post('/ci', withoutTimestamp, noTimestamp);
    assert.equal(noTimestampResponse.status, 401);
    assert.equal(noTimestampResponse.text, 'missing X-Timestamp header\n');

    const noSignature = marker('no-signature');
    const { 'x-signature': _u, ...unsigned } = ciHeaders(noSignature);
    assert.equal((await post('/ci', unsigned, noSignature)).text, 'missing X-Signature header\n');
  });

  test('generic HMAC: a repeated delivery id is refused with 409', async () => {
    const first = await post('/ci', ciHeaders('deploy 1', { deliveryId: 'dup-1' }), 'deploy 1');
    assert.equal(first.status, 202);
    const replay = marker('dup');
    const second = await post('/ci', ciHeaders(replay, { deliveryId: 'dup-1' }), replay);
    assert.equal(second.status, 409);
  });

  test('bearer: the right token is accepted, a wrong or missing one refused with 401', async () => {
    const ok = await post('/alerts', { authorization: `Bearer ${ALERTS_TOKEN}` }, 'disk 95% full on db1');
    assert.equal(ok.status, 202);
    assert.equal((await webhook.host.nextEvent((e) => e.content === 'disk 95% full on db1')).meta?.hook, 'alerts');
    const wrongBody = marker('bearer-wrong');
    const wrong = await post('/alerts', { authorization: `Bearer ${ALERTS_TOKEN}x` }, wrongBody);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.text, 'bearer token does not match\n');
    const missingBody = marker('bearer-missing');
    const missing = await post('/alerts', {}, missingBody);
    assert.equal(missing.status, 401);
    assert.equal(missing.text, 'missing Authorization: Bearer header\n');
    const basicBody = marker('bearer-basic');
    assert.equal((await post('/alerts', { authorization: `Basic ${ALERTS_TOKEN}` }, basicBody)).status, 401);
  });

  test('Stripe: a signed event arrives with its id as delivery; a retry of it is acknowledged with 200 and not delivered again', async () => {
    const id = stripeEventId();
    const body = JSON.stringify({ id, object: 'event', type: 'invoice.paid', data: { object: { id: 'in_1', amount_paid: 1200 } } });
    const response = await post('/stripe', stripeHeaders(body), body);
    assert.equal(response.status, 202, response.text);
    const event = await webhook.host.nextEvent((e) => e.meta?.delivery === id);
    assert.equal(event.content, body);
    assert.equal(event.meta?.hook, 'stripe');
    assert.equal(event.meta?.content_type, 'application/json');
    // Stripe retries an event under its id with a fresh timestamp and signature.
    const retry = await post('/stripe', stripeHeaders(body, { timestamp: Math.floor(Date.now() / 1000) + 5 }), body);
    // Stripe retries anything but a 2xx for days and disables failing endpoints.
    assert.equal(retry.status, 200);
    assert.deepEqual(JSON.parse(retry.text), { duplicate: id });
    const events = await webhook.host.events.settle(300);
    assert.equal(events.filter((e) => e.meta?.delivery === id).length, 1);
  });

  test('Stripe: while the secret is rolled, a header whose second v1 matches is accepted', async () => {
    const id = stripeEventId();
    const body = JSON.stringify({ id, object: 'event', type: 'customer.created' });
    const headers = stripeHeaders(body, { secrets: ['whsec_rolled-away', STRIPE_SECRET] });
    assert.match(headers['stripe-signature']!, /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    const response = await post('/stripe', headers, body);
    assert.equal(response.status, 202, response.text);
    await webhook.host.nextEvent((e) => e.meta?.delivery === id);
  });

  test('Stripe: a wrong secret, a stale timestamp, a malformed or a missing header is refused with 401', async () => {
    const stripeEvent = (what: string) => JSON.stringify({ id: stripeEventId(), object: 'event', type: marker(what) });
    const wrongBody = stripeEvent('stripe-wrong');
    const wrong = await post('/stripe', stripeHeaders(wrongBody, { secrets: ['whsec_not-this-one'] }), wrongBody);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.text, `no v1 signature in Stripe-Signature matches "<t>.<body>" signed with this source's secret\n`);

    const staleBody = stripeEvent('stripe-stale');
    const stale = await post('/stripe', stripeHeaders(staleBody, { timestamp: Math.floor(Date.now() / 1000) - 301 }), staleBody);
    assert.equal(stale.status, 401);
    assert.match(stale.text, /^the Stripe-Signature timestamp is 30[12] s away from this server's clock; the tolerance is 300 s\n$/);

    const malformedBody = stripeEvent('stripe-malformed');
    const withoutTimestamp = stripeHeaders(malformedBody)['stripe-signature']!.replace(/^t=\d+,/, '');
    const malformed = await post('/stripe', { 'stripe-signature': withoutTimestamp }, malformedBody);
    assert.equal(malformed.status, 401);
    assert.equal(malformed.text, 'Stripe-Signature is malformed: expected "t=<unix time>,v1=<hex signature>"\n');

    const missingBody = stripeEvent('stripe-missing');
    const missing = await post('/stripe', { 'content-type': 'application/json' }, missingBody);
    assert.equal(missing.status, 401);
    assert.equal(missing.text, 'missing Stripe-Signature header\n');
  });

  test("Slack: a signed event arrives with its event_id as delivery; Slack's retry of it is acknowledged with 200 and not delivered again", async () => {
    const eventId = `Ev${process.pid}x${Date.now()}`;
    const body = JSON.stringify({ type: 'event_callback', event_id: eventId, event: { type: 'app_mention', text: 'deploy is stuck' } });
    const response = await post('/slack', slackHeaders(body), body);
    assert.equal(response.status, 202, response.text);
    const event = await webhook.host.nextEvent((e) => e.meta?.delivery === eventId);
    assert.equal(event.meta?.hook, 'slack');
    assert.equal(event.content, body);
    const retry = await post('/slack', { ...slackHeaders(body), 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }, body);
    assert.equal(retry.status, 200);
    assert.deepEqual(JSON.parse(retry.text), { duplicate: eventId });
    const events = await webhook.host.events.settle(300);
    assert.equal(events.filter((e) => e.meta?.delivery === eventId).length, 1);
  });

  test('Slack: a wrong secret or a stale timestamp is refused with 401', async () => {
    const slackEvent = (what: string) => JSON.stringify({ type: 'event_callback', event_id: `Ev${what}`, event: { text: marker(what) } });
    const wrongBody = slackEvent('slack-wrong');
    const wrong = await post('/slack', slackHeaders(wrongBody, { secret: 'not-the-signing-secret' }), wrongBody);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.text, `X-Slack-Signature does not match "v0:<timestamp>:<body>" signed with this source's secret\n`);
    const staleBody = slackEvent('slack-stale');
    const stale = await post('/slack', slackHeaders(staleBody, { timestamp: Math.floor(Date.now() / 1000) - 301 }), staleBody);
    assert.equal(stale.status, 401);
    assert.match(stale.text, /^X-Slack-Request-Timestamp is 30[12] s away from this server's clock; the tolerance is 300 s\n$/);
  });

  test("Slack: the url_verification handshake is answered with its challenge and never reaches the session", async () => {
    const challenge = `challenge-${process.pid}-${Date.now()}`;
    const body = JSON.stringify({ token: 'Jhj5dZrVaK7Z', challenge, type: 'url_verification' });
    const response = await post('/slack', slackHeaders(body), body);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(response.text), { challenge });
    const forgedBody = JSON.stringify({ challenge: marker('slack-forged-handshake'), type: 'url_verification' });
    const forged = await post('/slack', { 'content-type': 'application/json' }, forgedBody);
    assert.equal(forged.status, 401, 'only a signed handshake is answered');
    const events = await webhook.host.events.settle(300);
    assert.equal(events.some((e) => e.content.includes(challenge)), false);
  });

  test('unnamed paths still accept unauthenticated events', async () => {
    assert.equal((await post('/elsewhere', {}, 'no source here')).status, 202);
    const event = await webhook.host.nextEvent((e) => e.content === 'no source here');
    assert.equal('hook' in (event.meta ?? {}), false);
  });

  test('refused requests never reach the session', async () => {
    await refused.assertNoneDelivered(webhook.host);
  });
});

describe('replays across restarts', () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const stop of stops) await stop();
  });
  const start = async (setup: Setup) => {
    const webhook = await startWebhook(setup);
    stops.push(() => webhook.host.close());
    return webhook;
  };
  const body = JSON.stringify(push);

  test('a GitHub delivery received before a restart is refused after it, and not delivered again', async () => {
    const first = await start({ config: VERIFIED_CONFIG, dotenv: VERIFIED_DOTENV });
    const headers = githubHeaders('push', body);
    assert.equal((await send(first.port, { path: '/github', headers, body })).status, 202);
    await first.host.close();

    const second = await start({ stateDir: first.stateDir });
    const replay = await send(second.port, { path: '/github', headers, body });
    assert.equal(replay.status, 409);
    assert.equal(replay.text, `delivery ${headers['x-github-delivery']} was already received\n`);
    assert.deepEqual(await second.host.events.settle(300), []);
    assert.equal(statSync(join(first.stateDir, 'deliveries.log')).mode & 0o777, 0o600);
  });

  test('a damaged deliveries.log is skipped with one log line, and its good lines still refuse their ids', async () => {
    const stateDir = scratchDir();
    const claim = (delivery: string) => JSON.stringify({ t: 'claim', source: 'github', delivery });
    const torn = claim('torn').slice(0, 20);
    writeFileSync(join(stateDir, 'deliveries.log'), ['hand edit', claim('kept-1'), '{"t":"claim"}', claim('kept-2'), torn].join('\n'));
    const webhook = await start({ config: VERIFIED_CONFIG, dotenv: VERIFIED_DOTENV, stateDir });
    assert.deepEqual(
      webhook.host.stderr.received.filter((line) => line.includes('skipped')),
      [`webhook channel: ${join(stateDir, 'deliveries.log')}: skipped 3 line(s) that are not delivery records`],
    );
    for (const id of ['kept-1', 'kept-2']) {
      const headers = { ...githubHeaders('push', body), 'x-github-delivery': id };
      assert.equal((await send(webhook.port, { path: '/github', headers, body })).status, 409, id);
    }
    assert.equal((await send(webhook.port, { path: '/github', headers: githubHeaders('push', body), body })).status, 202);
  });
});
