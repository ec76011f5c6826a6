/** Start-up: a broken configuration fails closed with a clear message; a good one in any editor's encoding works. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { RawServer } from '@openchannels/testkit';
import { GITHUB_SECRET, VERIFIED_CONFIG, githubHeaders, runUntilExit, send, startWebhook, webhookSpec } from './helpers.js';

const stops: Array<() => unknown> = [];
after(async () => {
  for (const stop of stops) await stop();
});

test('a webhook.json that is not JSON stops the server with exit 1, naming the file', async () => {
  const exit = await runUntilExit({ config: '{"sources": {"github": {"path": "/github",}}' });
  assert.equal(exit.code, 1);
  assert.match(exit.stderr, /^webhook channel: \S+\/webhook\.json is not valid JSON: /m);
});

test('an invalid field stops the server with exit 1, naming the file and the field', async () => {
  const cases: Array<[object, RegExp]> = [
    [{ sources: { ci: { path: '/ci', verify: { type: 'hmac', secretEnv: 'X' } } } }, /webhook\.json: sources\.ci\.verify\.type: /],
    [{ sources: { ci: { path: '/ci', verfy: { type: 'bearer', tokenEnv: 'X' } } } }, /webhook\.json: sources\.ci: Unrecognized key: "verfy"/],
    [{ maxBodyBytes: '1mb' }, /webhook\.json: maxBodyBytes: /],
    [{ sources: { ci: { path: 'ci' } } }, /webhook\.json: sources\.ci\.path: must start with \//],
    [{ sources: { a: { path: '/x' }, b: { path: '/x/' } } }, /webhook\.json: sources\.b\.path: \/x is already the path of source "a"/],
    [{ sources: { s: { path: '/events' } } }, /webhook\.json: sources\.s\.path: \/events is the outbound stream/],
    [{ requireVerification: true, sources: { open: { path: '/open' } } }, /webhook\.json: sources\.open\.verify: required because requireVerification is true/],
  ];
  const exits = await Promise.all(cases.map(([config]) => runUntilExit({ config })));
  exits.forEach((exit, i) => {
    assert.equal(exit.code, 1, JSON.stringify(cases[i]![0]));
    assert.match(exit.stderr, cases[i]![1]);
  });
});

test('a source whose secret variable is unset stops the server with exit 1, naming the variable', async () => {
  const exit = await runUntilExit({ config: VERIFIED_CONFIG, dotenv: 'CI_WEBHOOK_SECRET=x\nALERTS_TOKEN=y\n' });
  assert.equal(exit.code, 1);
  assert.match(exit.stderr, /sources\.github\.verify\.secretEnv: GITHUB_WEBHOOK_SECRET is not set; set it in the environment or in the \.env file/);
});

test('a port already taken stops the server with exit 1, naming the port and WEBHOOK_PORT', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as { port: number };
  const exit = await runUntilExit({ env: { WEBHOOK_PORT: String(port) } });
  blocker.close();
  assert.equal(exit.code, 1);
  assert.match(exit.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use; set WEBHOOK_PORT to another port`));
});

test('an invalid WEBHOOK_PORT stops the server with exit 1, naming the variable', async () => {
  const exit = await runUntilExit({ env: { WEBHOOK_PORT: 'eighty' } });
  assert.equal(exit.code, 1);
  assert.match(exit.stderr, /WEBHOOK_PORT="eighty" is not a port number/);
});

test('a BOM-prefixed webhook.json and a CRLF .env work, the secret read from .env', async () => {
  const config = { sources: { github: VERIFIED_CONFIG.sources.github } };
  const webhook = await startWebhook({
    config: `\uFEFF${JSON.stringify(config, null, 2).replaceAll('\n', '\r\n')}`,
    dotenv: `\uFEFF# secrets\r\nGITHUB_WEBHOOK_SECRET=${GITHUB_SECRET}\r\n`,
  });
  stops.push(() => webhook.host.close());
  const body = '{"zen":"Keep it logically awesome.","hook_id":1}';
  const response = await send(webhook.port, { path: '/github', headers: githubHeaders('ping', body), body });
  assert.equal(response.status, 202, response.text);
  const event = await webhook.host.nextEvent((e) => e.meta?.event === 'ping');
  assert.equal(event.content, 'GitHub webhook ping: "Keep it logically awesome."');
});

test('without a verified source the server does not declare the permission relay', async () => {
  for (const config of [undefined, { sources: { plain: { path: '/plain' } } }]) {
    const raw = RawServer.spawn(webhookSpec({ config }));
    stops.push(() => raw.kill());
    const init = await raw.initialize();
    const experimental = (init.result?.capabilities as { experimental?: Record<string, unknown> }).experimental ?? {};
    assert.deepEqual(experimental['claude/channel'], {});
    assert.equal('claude/channel/permission' in experimental, false, JSON.stringify(config));
  }
});

test('with requireVerification, a path no source claims is refused with 401', async () => {
  const webhook = await startWebhook({
    config: { requireVerification: true, sources: { alerts: { path: '/alerts', verify: { type: 'bearer', tokenEnv: 'ALERTS_TOKEN' } } } },
    env: { ALERTS_TOKEN: 'from-the-environment' },
  });
  stops.push(() => webhook.host.close());
  const open = await send(webhook.port, { path: '/anything', body: 'unverified' });
  assert.equal(open.status, 401);
  assert.equal(open.text, 'no source is configured for /anything, and requireVerification is on\n');
  const verified = await send(webhook.port, { path: '/alerts', headers: { authorization: 'Bearer from-the-environment' }, body: 'verified' });
  assert.equal(verified.status, 202);
  await webhook.host.nextEvent((e) => e.content === 'verified');
  const events = await webhook.host.events.settle(200);
  assert.equal(events.some((e) => e.content === 'unverified'), false);
});
