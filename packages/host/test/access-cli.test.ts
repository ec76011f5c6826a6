import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot, tempStateDir } from '@openchannels/testkit';

const cli = join(repoRoot, 'packages/host/bin/openchannels.js');
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function stateDir(): string {
  const dir = tempStateDir('access-cli-');
  dirs.push(dir);
  return dir;
}

/** Runs `openchannels <args>` with TELEGRAM_STATE_DIR set, as a user would in a shell. */
function run(state: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, TELEGRAM_STATE_DIR: state, TELEGRAM_BOT_TOKEN: '' };
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

function readAccess(state: string) {
  return JSON.parse(readFileSync(join(state, 'access.json'), 'utf8'));
}

function withPending(state: string, code: string, expiresAt = Date.now() + 60_000): void {
  const pending = { [code]: { senderId: '222', chatId: '222', createdAt: Date.now(), expiresAt, replies: 1 } };
  writeFileSync(
    join(state, 'access.json'),
    JSON.stringify({ dmPolicy: 'pairing', allowFrom: [], groups: {}, pending }),
  );
}

// Each test has its own state directory, so they run side by side.
describe('openchannels access', { concurrency: true }, () => {
  test('status of a channel never set up shows the defaults', async () => {
    const state = stateDir();
    const { code, stdout } = await run(state, 'access', 'telegram');
    assert.equal(code, 0);
    assert.match(stdout, /access\.json\ndmPolicy: pairing\nallowFrom \(0\): \(none\)\npending \(0\)\ngroups \(0\)/);
  });

  test('pair approves a pending code and leaves the approval for the running channel', async () => {
    const state = stateDir();
    withPending(state, 'a1b2c3');
    const { code, stdout } = await run(state, 'access', 'telegram', 'pair', 'A1B2C3');
    assert.equal(code, 0);
    assert.match(stdout, /^Paired 222\./);
    const access = readAccess(state);
    assert.deepEqual(access.allowFrom, ['222']);
    assert.deepEqual(access.pending, {});
    assert.equal(readFileSync(join(state, 'approved', '222'), 'utf8'), '222');
    assert.equal(statSync(join(state, 'access.json')).mode & 0o777, 0o600);
  });

  test('an unknown or expired code is an error and changes nothing', async () => {
    const state = stateDir();
    withPending(state, 'a1b2c3', Date.now() - 1);
    const unknown = await run(state, 'access', 'telegram', 'pair', 'ffffff');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'openchannels access: no pending pairing with code "ffffff"\n');
    const expired = await run(state, 'access', 'telegram', 'pair', 'a1b2c3');
    assert.equal(expired.code, 1);
    assert.match(expired.stderr, /pairing code a1b2c3 has expired/);
    assert.deepEqual(readAccess(state).allowFrom, []);
    assert.equal(existsSync(join(state, 'approved')), false);
  });

  test('deny drops a pending code without allowlisting', async () => {
    const state = stateDir();
    withPending(state, 'a1b2c3');
    assert.equal((await run(state, 'access', 'telegram', 'deny', 'a1b2c3')).code, 0);
    assert.deepEqual(readAccess(state).pending, {});
    assert.deepEqual(readAccess(state).allowFrom, []);
  });

  test('allow, remove and policy edit access.json; bad values are refused', async () => {
    const state = stateDir();
    assert.equal((await run(state, 'access', 'telegram', 'allow', '111')).stdout, 'Allowlisted 111.\n');
    assert.equal((await run(state, 'access', 'telegram', 'allow', '111')).stdout, '111 was already allowlisted.\n');
    assert.equal((await run(state, 'access', 'telegram', 'allow', '333')).code, 0);
    assert.equal((await run(state, 'access', 'telegram', 'remove', '333')).code, 0);
    const absent = await run(state, 'access', 'telegram', 'remove', '333');
    assert.deepEqual([absent.code, absent.stderr], [1, 'openchannels access: 333 is not on the allowlist\n']);
    assert.equal((await run(state, 'access', 'telegram', 'policy', 'allowlist')).code, 0);
    const bad = await run(state, 'access', 'telegram', 'policy', 'open');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid policy "open": expected pairing, allowlist, disabled/);
    assert.deepEqual(readAccess(state), { dmPolicy: 'allowlist', allowFrom: ['111'], groups: {}, pending: {} });
  });

  test('group add and rm, with --no-mention and --allow', async () => {
    const state = stateDir();
    const added = await run(state, 'access', 'telegram', 'group', 'add', '-1001234', '--no-mention', '--allow', '1,2');
    assert.equal(added.code, 0);
    assert.match(added.stdout, /BotFather → \/setprivacy → Disable/);
    await run(state, 'access', 'telegram', 'group', 'add', '-1005678');
    assert.deepEqual(readAccess(state).groups, {
      '-1001234': { requireMention: false, allowFrom: ['1', '2'] },
      '-1005678': { requireMention: true, allowFrom: [] },
    });
    assert.equal((await run(state, 'access', 'telegram', 'group', 'rm', '-1001234')).code, 0);
    assert.equal((await run(state, 'access', 'telegram', 'group', 'rm', '-1001234')).code, 1);
    assert.deepEqual(Object.keys(readAccess(state).groups), ['-1005678']);
  });

  test('set stores settings with their types, and refuses bad ones', async () => {
    const state = stateDir();
    await run(state, 'access', 'telegram', 'set', 'ackReaction', '👀');
    await run(state, 'access', 'telegram', 'set', 'textChunkLimit', '2000');
    await run(state, 'access', 'telegram', 'set', 'mentionPatterns', '["^claude\\\\b"]');
    const bad = await run(state, 'access', 'telegram', 'set', 'textChunkLimit', 'lots');
    assert.equal(bad.code, 1);
    const access = readAccess(state);
    assert.deepEqual([access.ackReaction, access.textChunkLimit, access.mentionPatterns], ['👀', 2000, ['^claude\\b']]);
    await run(state, 'access', 'telegram', 'set', 'ackReaction', '');
    assert.equal(readAccess(state).ackReaction, '');
  });

  test('an unknown command or channel is an error with the usage', async () => {
    const state = stateDir();
    const command = await run(state, 'access', 'telegram', 'approve-everyone');
    assert.equal(command.code, 1);
    assert.match(command.stderr, /unknown command "approve-everyone"\nusage: openchannels access <channel>/);
    const channel = await run(state, 'access', 'telegarm', 'status');
    assert.equal(channel.code, 1);
    assert.match(channel.stderr, /unknown channel "telegarm"/);
    const missing = await run(state, 'access', 'telegram', 'pair');
    assert.deepEqual([missing.code, missing.stderr.split('\n')[0]], [1, 'openchannels access: pair needs a code']);
  });
});

describe('openchannels configure', { concurrency: true }, () => {
  const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

  test('saves the token in .env with mode 600, keeping other lines, and shows it masked', async () => {
    const state = stateDir();
    writeFileSync(join(state, '.env'), 'TELEGRAM_STATE_NOTE=keep me\r\nTELEGRAM_BOT_TOKEN=old\r\n');
    const { code, stdout } = await run(state, 'configure', 'telegram', `  ${TOKEN} `);
    assert.equal(code, 0);
    assert.equal(
      readFileSync(join(state, '.env'), 'utf8'),
      `TELEGRAM_STATE_NOTE=keep me\r\nTELEGRAM_BOT_TOKEN=${TOKEN}\r\n`,
    );
    assert.equal(statSync(join(state, '.env')).mode & 0o777, 0o600);
    assert.match(
      stdout,
      /Saved TELEGRAM_BOT_TOKEN in .*\.env \(mode 600\)\. A running session uses it after a restart or \/reload-plugins/,
    );
    assert.match(stdout, /token: 123456789:\.\.\. \(in /);
    assert.ok(!stdout.includes(TOKEN.slice(12)), 'the secret part is never shown');
    assert.match(
      stdout,
      /next: message your bot; it answers with a code; approve it with: openchannels access telegram pair <code>/,
    );
  });

  test('status points to the next step: a token, pairing, then lock-down', async () => {
    const state = stateDir();
    const empty = await run(state, 'configure', 'telegram');
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, /token: not set/);
    assert.match(
      empty.stdout,
      /next: create a bot with @BotFather \(\/newbot\) and save its token: openchannels configure telegram <token>/,
    );
    await run(state, 'configure', 'telegram', TOKEN);
    await run(state, 'access', 'telegram', 'allow', '111');
    assert.match(
      (await run(state, 'configure', 'telegram')).stdout,
      /next: is that everyone who should reach you through this bot\? .*policy allowlist/,
    );
    await run(state, 'access', 'telegram', 'policy', 'allowlist');
    assert.match((await run(state, 'configure', 'telegram')).stdout, /next: locked down/);
  });

  test('clear removes the token line, and the file when nothing else was in it', async () => {
    const state = stateDir();
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, '.env'), `OTHER=1\nTELEGRAM_BOT_TOKEN=${TOKEN}\n`);
    assert.equal((await run(state, 'configure', 'telegram', 'clear')).code, 0);
    assert.equal(readFileSync(join(state, '.env'), 'utf8'), 'OTHER=1\n');
    writeFileSync(join(state, '.env'), `TELEGRAM_BOT_TOKEN=${TOKEN}\n`);
    const cleared = await run(state, 'configure', 'telegram', 'clear');
    assert.match(cleared.stdout, /^Removed TELEGRAM_BOT_TOKEN from /);
    assert.equal(existsSync(join(state, '.env')), false);
  });

  test('a token with spaces or an unknown channel is refused; an odd-looking token is saved with a warning', async () => {
    const state = stateDir();
    const spaced = await run(state, 'configure', 'telegram', 'two words');
    assert.deepEqual(
      [spaced.code, spaced.stderr],
      [1, 'openchannels configure: a token is one word, without spaces\n'],
    );
    const channel = await run(state, 'configure', 'fakechat', TOKEN);
    assert.equal(channel.code, 1);
    assert.match(channel.stderr, /unknown channel "fakechat"/);
    const odd = await run(state, 'configure', 'telegram', 'not-a-telegram-token');
    assert.equal(odd.code, 0);
    assert.match(odd.stderr, /does not look like a Telegram bot token/);
  });
});
