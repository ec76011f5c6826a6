import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedSet } from '../src/bounded-set.js';
import { ReplayGuard, bearerVerifier, githubVerifier, hmacVerifier, slackVerifier, stripeVerifier } from '../src/verify.js';
import { hmacHex } from './helpers.js';

const NOW = 1_800_000_000;
const body = Buffer.from('{"ref":"refs/heads/main"}');

test('github: accepts sha256=<hex> of the raw body, in either case, and returns the delivery id', () => {
  const verifier = githubVerifier('s3cret');
  const signature = hmacHex('s3cret', body);
  for (const value of [`sha256=${signature}`, `sha256=${signature.toUpperCase()}`]) {
    const result = verifier.verify({ 'x-hub-signature-256': value, 'x-github-delivery': 'abc-123' }, body, NOW);
    assert.deepEqual(result, { ok: true, deliveryId: 'abc-123' });
  }
});

test('github: refuses a missing, malformed, wrong-secret or unprefixed signature, and a missing delivery id', () => {
  const verifier = githubVerifier('s3cret');
  const good = hmacHex('s3cret', body);
  const reasons = [
    {},
    { 'x-hub-signature-256': 'sha256=nothex' },
    { 'x-hub-signature-256': `sha256=${hmacHex('other', body)}` },
    { 'x-hub-signature-256': good }, // GitHub always sends the prefix
    { 'x-hub-signature-256': `sha1=${good}` },
  ].map((headers) => verifier.verify({ ...headers, 'x-github-delivery': 'd' }, body, NOW));
  assert.deepEqual(reasons[0], { ok: false, reason: 'missing X-Hub-Signature-256 header (give the GitHub webhook a secret)' });
  for (const result of reasons.slice(1)) {
    assert.deepEqual(result, { ok: false, reason: "X-Hub-Signature-256 does not match the body and this source's secret" });
  }
  assert.deepEqual(verifier.verify({ 'x-hub-signature-256': `sha256=${good}` }, body, NOW), {
    ok: false,
    reason: 'missing X-GitHub-Delivery header',
  });
});

test('hmac-sha256 without a timestamp signs the body; the sha256= prefix is optional', () => {
  const verifier = hmacVerifier({ secret: 'k', header: 'X-Signature', toleranceSeconds: 300 });
  const digest = hmacHex('k', body);
  assert.deepEqual(verifier.verify({ 'x-signature': digest }, body, NOW), { ok: true });
  assert.deepEqual(verifier.verify({ 'x-signature': `sha256=${digest}` }, body, NOW), { ok: true });
  const wrong = verifier.verify({ 'x-signature': hmacHex('k', 'other body') }, body, NOW);
  assert.deepEqual(wrong, {
    ok: false,
    reason: "X-Signature does not match: expected the hex HMAC-SHA256 of the body with this source's secret",
  });
  assert.deepEqual(verifier.verify({}, body, NOW), { ok: false, reason: 'missing X-Signature header' });
});

test('hmac-sha256 with a timestamp signs "<timestamp>.<body>" and enforces the tolerance both ways', () => {
  const verifier = hmacVerifier({
    secret: 'k',
    header: 'X-Signature',
    timestampHeader: 'X-Timestamp',
    toleranceSeconds: 60,
    deliveryHeader: 'X-Delivery-Id',
  });
  const signed = (timestamp: number | string) => ({
    'x-timestamp': String(timestamp),
    'x-signature': hmacHex('k', `${timestamp}.`, body),
    'x-delivery-id': 'job-7',
  });
  assert.deepEqual(verifier.verify(signed(NOW - 60), body, NOW), { ok: true, deliveryId: 'job-7' });
  assert.deepEqual(verifier.verify(signed(NOW + 60), body, NOW), { ok: true, deliveryId: 'job-7' });
  assert.deepEqual(verifier.verify(signed(NOW - 61), body, NOW), {
    ok: false,
    reason: "X-Timestamp is 61 s away from this server's clock; the tolerance is 60 s",
  });
  assert.equal(verifier.verify(signed(NOW + 61), body, NOW).ok, false);
  assert.deepEqual(verifier.verify(signed('1.8e9'), body, NOW), { ok: false, reason: 'X-Timestamp must be a unix time in seconds' });
  const { 'x-delivery-id': _id, ...noDelivery } = signed(NOW);
  assert.deepEqual(verifier.verify(noDelivery, body, NOW), { ok: false, reason: 'missing X-Delivery-Id header' });
  const { 'x-timestamp': _ts, ...noTimestamp } = signed(NOW);
  assert.deepEqual(verifier.verify(noTimestamp, body, NOW), { ok: false, reason: 'missing X-Timestamp header' });
  const bodyOnly = { ...signed(NOW), 'x-signature': hmacHex('k', body) };
  assert.deepEqual(verifier.verify(bodyOnly, body, NOW), {
    ok: false,
    reason: `X-Signature does not match: expected the hex HMAC-SHA256 of "<X-Timestamp>.<body>" with this source's secret`,
  });
});

test('hmac-sha256 checks the signature before the clock, so a forger learns nothing about the window', () => {
  const verifier = hmacVerifier({ secret: 'k', header: 'X-Signature', timestampHeader: 'X-Timestamp', toleranceSeconds: 60 });
  const result = verifier.verify({ 'x-timestamp': '1', 'x-signature': 'f'.repeat(64) }, body, NOW);
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.reason, /^X-Signature does not match/);
});

const stripeSecret = 'whsec_abc123';
const stripeEvent = Buffer.from('{"id":"evt_1","object":"event","type":"invoice.paid"}');
const stripeV1 = (timestamp: number | string, secret = stripeSecret, body: Buffer = stripeEvent) => `v1=${hmacHex(secret, `${timestamp}.`, body)}`;

test('stripe: accepts a v1 over "<t>.<body>" with the whsec_ secret as given, the event id as delivery id', () => {
  const verifier = stripeVerifier(stripeSecret, 300);
  const header = `t=${NOW},${stripeV1(NOW)}`;
  assert.deepEqual(verifier.verify({ 'stripe-signature': header }, stripeEvent, NOW), { ok: true, deliveryId: 'evt_1' });
  const spaced = `t=${NOW}, ${stripeV1(NOW).toUpperCase().replace('V1=', 'v1=')}, v0=${'0'.repeat(64)}`;
  assert.deepEqual(verifier.verify({ 'stripe-signature': spaced }, stripeEvent, NOW), { ok: true, deliveryId: 'evt_1' });
  for (const text of ['not json', '[1]', '{"object":"event"}', '{"id":7}']) {
    const body = Buffer.from(text);
    const result = verifier.verify({ 'stripe-signature': `t=${NOW},${stripeV1(NOW, stripeSecret, body)}` }, body, NOW);
    assert.deepEqual(result, { ok: true }, `${text}: no event id, no delivery id`);
  }
});

test('stripe: while a secret is rolled, any of several v1 signatures may match', () => {
  const verifier = stripeVerifier(stripeSecret, 300);
  const header = `t=${NOW},${stripeV1(NOW, 'whsec_old')},${stripeV1(NOW)}`;
  assert.deepEqual(verifier.verify({ 'stripe-signature': header }, stripeEvent, NOW), { ok: true, deliveryId: 'evt_1' });
  const neither = `t=${NOW},${stripeV1(NOW, 'whsec_old')},${stripeV1(NOW, 'whsec_older')}`;
  assert.deepEqual(verifier.verify({ 'stripe-signature': neither }, stripeEvent, NOW), {
    ok: false,
    reason: `no v1 signature in Stripe-Signature matches "<t>.<body>" signed with this source's secret`,
  });
});

test('stripe: refuses a missing or malformed header, a v0-only header, and a signature over another timestamp', () => {
  const verifier = stripeVerifier(stripeSecret, 300);
  assert.deepEqual(verifier.verify({}, stripeEvent, NOW), { ok: false, reason: 'missing Stripe-Signature header' });
  const malformed = { ok: false, reason: 'Stripe-Signature is malformed: expected "t=<unix time>,v1=<hex signature>"' };
  for (const header of ['', 'garbage', stripeV1(NOW), `t=${NOW}`, `t=${NOW},v0=${'0'.repeat(64)}`, `t=${NOW},t=${NOW},${stripeV1(NOW)}`, `t=${NOW},${stripeV1(NOW)},`]) {
    assert.deepEqual(verifier.verify({ 'stripe-signature': header }, stripeEvent, NOW), malformed, header);
  }
  const moved = verifier.verify({ 'stripe-signature': `t=${NOW + 1},${stripeV1(NOW)}` }, stripeEvent, NOW);
  assert.equal(moved.ok, false, 'the timestamp is part of what is signed');
  const tampered = verifier.verify({ 'stripe-signature': `t=${NOW},${stripeV1(NOW)}` }, Buffer.from('{"id":"evt_2"}'), NOW);
  assert.equal(tampered.ok, false);
});

test('stripe: enforces the tolerance both ways, after the signature, naming the skew', () => {
  const verifier = stripeVerifier(stripeSecret, 300);
  const at = (timestamp: number) => verifier.verify({ 'stripe-signature': `t=${timestamp},${stripeV1(timestamp)}` }, stripeEvent, NOW);
  assert.equal(at(NOW - 300).ok, true);
  assert.equal(at(NOW + 300).ok, true);
  assert.deepEqual(at(NOW - 301), {
    ok: false,
    reason: "the Stripe-Signature timestamp is 301 s away from this server's clock; the tolerance is 300 s",
  });
  assert.equal(at(NOW + 301).ok, false);
  const forged = verifier.verify({ 'stripe-signature': `t=1,v1=${'f'.repeat(64)}` }, stripeEvent, NOW);
  assert.match(forged.ok ? '' : forged.reason, /^no v1 signature/);
  const wordy = verifier.verify({ 'stripe-signature': `t=soon,${stripeV1('soon')}` }, stripeEvent, NOW);
  assert.deepEqual(wordy, { ok: false, reason: 'the Stripe-Signature timestamp must be a unix time in seconds' });
});

const slackSecret = '8f742231b10e8888abcd99yyyzzz85a5';
const slackEvent = Buffer.from('{"type":"event_callback","event_id":"Ev0123","event":{"type":"app_mention","text":"hi"}}');
const slackSigned = (body: Buffer, timestamp: number | string = NOW, secret = slackSecret) => ({
  'x-slack-request-timestamp': String(timestamp),
  'x-slack-signature': `v0=${hmacHex(secret, `v0:${timestamp}:`, body)}`,
});

test('slack: accepts v0=<hex> over "v0:<timestamp>:<body>", the event_id as delivery id', () => {
  const verifier = slackVerifier(slackSecret, 300);
  assert.deepEqual(verifier.verify(slackSigned(slackEvent), slackEvent, NOW), { ok: true, deliveryId: 'Ev0123' });
  const command = Buffer.from('command=%2Fdeploy&text=api');
  assert.deepEqual(verifier.verify(slackSigned(command), command, NOW), { ok: true }, 'a slash command has no event_id');
});

test('slack: refuses missing headers, a wrong secret, another scheme and a stale timestamp', () => {
  const verifier = slackVerifier(slackSecret, 60);
  const { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } = slackSigned(slackEvent);
  assert.deepEqual(verifier.verify({ 'x-slack-request-timestamp': timestamp }, slackEvent, NOW), {
    ok: false,
    reason: 'missing X-Slack-Signature header',
  });
  assert.deepEqual(verifier.verify({ 'x-slack-signature': signature }, slackEvent, NOW), {
    ok: false,
    reason: 'missing X-Slack-Request-Timestamp header',
  });
  const mismatch = { ok: false, reason: `X-Slack-Signature does not match "v0:<timestamp>:<body>" signed with this source's secret` };
  assert.deepEqual(verifier.verify(slackSigned(slackEvent, NOW, 'other'), slackEvent, NOW), mismatch);
  assert.deepEqual(verifier.verify({ 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature.replace('v0=', 'v1=') }, slackEvent, NOW), mismatch);
  assert.deepEqual(verifier.verify({ 'x-slack-request-timestamp': String(NOW + 1), 'x-slack-signature': signature }, slackEvent, NOW), mismatch);
  assert.deepEqual(verifier.verify(slackSigned(slackEvent, NOW - 61), slackEvent, NOW), {
    ok: false,
    reason: "X-Slack-Request-Timestamp is 61 s away from this server's clock; the tolerance is 60 s",
  });
  assert.equal(verifier.verify(slackSigned(slackEvent, NOW + 61), slackEvent, NOW).ok, false);
});

test('slack: a signed url_verification is answered with its challenge, an unsigned one refused', () => {
  const verifier = slackVerifier(slackSecret, 300);
  const handshake = Buffer.from('{"token":"Jhj5dZrVaK7Z","challenge":"3eZbrw1aBm2rZgRNFdxV","type":"url_verification"}');
  assert.deepEqual(verifier.verify(slackSigned(handshake), handshake, NOW), { ok: true, answer: { challenge: '3eZbrw1aBm2rZgRNFdxV' } });
  assert.equal(verifier.verify(slackSigned(handshake, NOW, 'other'), handshake, NOW).ok, false);
});

test('bearer: accepts exactly the token after "Bearer", any case of the scheme', () => {
  const verifier = bearerVerifier('tok-123');
  assert.deepEqual(verifier.verify({ authorization: 'Bearer tok-123' }, body, NOW), { ok: true });
  assert.deepEqual(verifier.verify({ authorization: 'bearer   tok-123 ' }, body, NOW), { ok: true });
  assert.deepEqual(verifier.verify({ authorization: 'Bearer tok-1234' }, body, NOW), { ok: false, reason: 'bearer token does not match' });
  assert.deepEqual(verifier.verify({ authorization: 'Bearer tok-12' }, body, NOW), { ok: false, reason: 'bearer token does not match' });
  assert.deepEqual(verifier.verify({ authorization: 'Basic tok-123' }, body, NOW), {
    ok: false,
    reason: 'Authorization header is not "Bearer <token>"',
  });
  assert.deepEqual(verifier.verify({}, body, NOW), { ok: false, reason: 'missing Authorization: Bearer header' });
});

test('the replay guard refuses a delivery id seen before per source, and forgets a released one', () => {
  const guard = new ReplayGuard({ capacity: 3 });
  assert.equal(guard.claim('github', 'd1'), true);
  assert.equal(guard.claim('github', 'd1'), false);
  assert.equal(guard.claim('ci', 'd1'), true, 'ids are per source');
  guard.release('github', 'd1');
  assert.equal(guard.claim('github', 'd1'), true, 'a delivery that failed can be retried');
  for (const id of ['d2', 'd3', 'd4']) guard.claim('github', id);
  assert.equal(guard.claim('ci', 'd1'), true, 'only the most recent ids are remembered');
});

test('a bounded set keeps only its most recent entries', () => {
  const set = new BoundedSet<number>(2);
  set.add(1);
  set.add(2);
  set.add(1); // refreshed: now the newest
  set.add(3);
  assert.equal(set.has(1), true);
  assert.equal(set.has(2), false);
  assert.equal(set.has(3), true);
  assert.equal(set.size, 2);
});
