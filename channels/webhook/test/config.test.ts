import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, parseConfig, sourceForPath } from '../src/config.js';
import { scratchDir } from './helpers.js';

const FILE = '/state/webhook.json';
const secrets: Record<string, string> = { GH: 'g', CI: 'c', TOKEN: 't' };
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
