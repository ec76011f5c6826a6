import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, parseConfig, sourceForPath } from '../src/config.js';
import { hmacHex, scratchDir } from './helpers.js';

const FILE = '/state/webhook.json';
const secrets: Record<string, string> = { GH: 'g', CI: 'c', TOKEN: 't', STRIPE: 'whsec_s', SLACK: 'k' };
const setting = (name: string) => secrets[name];

test('no webhook.json means defaults and no named sources', () => {
  const config = loadConfig(scratchDir(), setting);
  assert.deepEqual(config, { maxBodyBytes: 1024 * 1024, allowedHosts: [], requireVerification: false, sources: [] });
});

test('a full config resolves each source with its verifier, most specific path first', () => {
  const config = parseConfig(
    JSON.stringify({
      maxBodyBytes: 4096,
      allowedHosts: ['my-tunnel.example'],
      sources: {
        all: { path: '/' },
        github: { path: '/github/', verify: { type: 'github', secretEnv: 'GH' } },
        ci: { path: '/ci', verify: { type: 'hmac-sha256', header: 'X-Signature', secretEnv: 'CI', timestampHeader: 'X-Timestamp' } },
        deep: { path: '/github/org', verify: { type: 'bearer', tokenEnv: 'TOKEN' } },
      },
    }),
    FILE,
    setting,
  );
  assert.equal(config.maxBodyBytes, 4096);
  assert.deepEqual(config.allowedHosts, ['my-tunnel.example']);
  assert.deepEqual(
    config.sources.map((s) => [s.name, s.path, s.verifier?.type]),
    [
      ['deep', '/github/org', 'bearer'],
      ['github', '/github', 'github'],
      ['ci', '/ci', 'hmac-sha256'],
      ['all', '/', undefined],
    ],
  );
  assert.equal(sourceForPath(config, '/github')?.name, 'github');
  assert.equal(sourceForPath(config, '/github/')?.name, 'github');
  assert.equal(sourceForPath(config, '/github/org/repo')?.name, 'deep');
  assert.equal(sourceForPath(config, '/githubx')?.name, 'all', 'a prefix must end at a path segment');
  assert.equal(sourceForPath(config, '/ci/nightly')?.name, 'ci');
});

test('stripe and slack sources take a secret and an optional tolerance, 300 s by default', () => {
  const config = parseConfig(
    JSON.stringify({
      sources: {
        stripe: { path: '/stripe', verify: { type: 'stripe', secretEnv: 'STRIPE' } },
        slack: { path: '/slack', verify: { type: 'slack', secretEnv: 'SLACK', toleranceSeconds: 60 } },
      },
    }),
    FILE,
    setting,
  );
  const [stripe, slack] = ['/stripe', '/slack'].map((path) => sourceForPath(config, path)!.verifier!);
  assert.equal(stripe!.type, 'stripe');
  assert.equal(slack!.type, 'slack');
  const now = 1_800_000_000;
  const body = Buffer.from('{}');
  const stripeAt = (t: number) => stripe!.verify({ 'stripe-signature': `t=${t},v1=${hmacHex('whsec_s', `${t}.`, body)}` }, body, now);
  assert.equal(stripeAt(now - 300).ok, true);
  assert.equal(stripeAt(now - 301).ok, false);
  const slackAt = (t: number) =>
    slack!.verify({ 'x-slack-request-timestamp': String(t), 'x-slack-signature': `v0=${hmacHex('k', `v0:${t}:`, body)}` }, body, now);
  assert.equal(slackAt(now - 60).ok, true);
  assert.equal(slackAt(now - 61).ok, false);
});

test('without a catch-all source, an unclaimed path has no source', () => {
  const config = parseConfig('{"sources": {"ci": {"path": "/ci"}}}', FILE, setting);
  assert.equal(sourceForPath(config, '/'), undefined);
  assert.equal(sourceForPath(config, '/cix'), undefined);
  assert.equal(sourceForPath(config, '/ci')?.verifier, undefined);
});

test('errors name the file and the field', () => {
  const cases: Array<[unknown, string]> = [
    [[], 'invalid /state/webhook.json: (top level): Invalid input: expected object, received array'],
    [{ allowedHosts: 'x' }, 'invalid /state/webhook.json: allowedHosts: Invalid input: expected array, received string'],
    [{ maxBodyBytes: 0 }, 'invalid /state/webhook.json: maxBodyBytes: Too small: expected number to be >=1'],
    [{ sources: { 'bad name': { path: '/x' } } }, 'invalid /state/webhook.json: sources.bad name: source names use letters, digits, _ and -'],
    [{ sources: { x: { path: '/x?y' } } }, 'invalid /state/webhook.json: sources.x.path: must start with / and contain no spaces, ? or #'],
    [
      { sources: { x: { path: '/x', verify: { type: 'bearer', tokenEnv: 'not a name' } } } },
      'invalid /state/webhook.json: sources.x.verify.tokenEnv: must be an environment variable name (letters, digits, underscore)',
    ],
    [
      { sources: { x: { path: '/x', verify: { type: 'hmac-sha256', header: 'X Sig', secretEnv: 'CI' } } } },
      'invalid /state/webhook.json: sources.x.verify.header: must be an HTTP header name',
    ],
    [
      { sources: { x: { path: '/x', verify: { type: 'hmac-sha256', header: 'X-Sig', secretEnv: 'CI', toleranceSeconds: 60 } } } },
      'invalid /state/webhook.json: sources.x.verify.toleranceSeconds: only applies with timestampHeader, which is not set',
    ],
    [
      { sources: { x: { path: '/x', verify: { type: 'github', secretEnv: 'UNSET' } } } },
      'invalid /state/webhook.json: sources.x.verify.secretEnv: UNSET is not set; set it in the environment or in the .env file beside webhook.json',
    ],
    [
      { sources: { x: { path: '/x', verify: { type: 'stripe', secretEnv: 'STRIPE_WEBHOOK_SECRET' } } } },
      'invalid /state/webhook.json: sources.x.verify.secretEnv: STRIPE_WEBHOOK_SECRET is not set; set it in the environment or in the .env file beside webhook.json',
    ],
    [
      { sources: { x: { path: '/x', verify: { type: 'slack', secretEnv: 'SLACK_SIGNING_SECRET' } } } },
      'invalid /state/webhook.json: sources.x.verify.secretEnv: SLACK_SIGNING_SECRET is not set; set it in the environment or in the .env file beside webhook.json',
    ],
    [
      { sources: { x: { path: '/x', verify: { type: 'stripe', secretEnv: 'STRIPE', toleranceSeconds: 0 } } } },
      'invalid /state/webhook.json: sources.x.verify.toleranceSeconds: Too small: expected number to be >=1',
    ],
    [
      { sources: { x: { path: '/x', verify: { type: 'slack', secretEnv: 'SLACK', header: 'X-Slack-Signature' } } } },
      'invalid /state/webhook.json: sources.x.verify: Unrecognized key: "header"',
    ],
    [{ sources: { x: { path: '/events/x' } } }, 'invalid /state/webhook.json: sources.x.path: /events is the outbound stream and cannot be a source'],
  ];
  for (const [data, message] of cases) {
    assert.throws(() => parseConfig(JSON.stringify(data), FILE, setting), { message }, JSON.stringify(data));
  }
  assert.throws(() => parseConfig('{"sources": ', FILE, setting), { message: /^\/state\/webhook\.json is not valid JSON: / });
});

test('a byte-order mark is tolerated; an unreadable file is an error, not an empty config', () => {
  assert.equal(parseConfig('\uFEFF{"maxBodyBytes": 10}', FILE, setting).maxBodyBytes, 10);
  const dir = scratchDir();
  writeFileSync(join(dir, 'webhook.json'), '{}');
  assert.deepEqual(loadConfig(dir, setting).sources, []);
  const notADir = join(dir, 'webhook.json');
  assert.throws(() => loadConfig(notADir, setting), { message: /^cannot read / });
});
