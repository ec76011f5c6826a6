import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ChannelSettings, envPrefix, parseDotEnv, resolveStateDir, writeFileAtomic } from './state.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openchannels-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('parseDotEnv survives a byte-order mark and CRLF line endings', () => {
  assert.deepEqual(parseDotEnv('\uFEFFTOKEN=abc\r\nOTHER=def\r\n'), { TOKEN: 'abc', OTHER: 'def' });
  assert.deepEqual(parseDotEnv('A=1\rB=2'), { A: '1', B: '2' });
});

test('parseDotEnv strips quotes, comments and `export`', () => {
  const text = [
    '# a comment',
    '',
    'export TOKEN=123:abc',
    'DOUBLE="two words"',
    "SINGLE='it is # not a comment'",
    'TRAILING=value # a note',
    'QUOTED_NOTE="a # b" # note',
    'HASH=abc#def',
    '  SPACED  =  padded  ',
    'EMPTY=',
    'not a line',
  ].join('\n');
  assert.deepEqual(parseDotEnv(text), {
    TOKEN: '123:abc',
    DOUBLE: 'two words',
    SINGLE: 'it is # not a comment',
    TRAILING: 'value',
    QUOTED_NOTE: 'a # b',
    HASH: 'abc#def',
    SPACED: 'padded',
    EMPTY: '',
  });
});

test('ChannelSettings: the environment beats .env, and the override is logged', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, '.env'), 'TOKEN=from-file\nPORT=8787\nBLANK=\n', { mode: 0o644 });
  const logs: string[] = [];
  const settings = new ChannelSettings(dir, { TOKEN: 'from-env' }, (line) => logs.push(line));
  assert.equal(settings.get('TOKEN'), 'from-env');
  assert.equal(settings.get('PORT'), '8787');
  assert.equal(settings.get('BLANK'), undefined);
  assert.equal(settings.get('MISSING'), undefined);
  assert.deepEqual(logs, [`TOKEN from the environment overrides the value in ${join(dir, '.env')}`]);
});

test('ChannelSettings restricts .env to mode 0600 and works without one', (t) => {
  const dir = tempDir(t);
  const envPath = join(dir, '.env');
  writeFileSync(envPath, 'TOKEN=x\n');
  chmodSync(envPath, 0o644);
  new ChannelSettings(dir, {});
  assert.equal(statSync(envPath).mode & 0o777, 0o600);
  assert.equal(new ChannelSettings(join(dir, 'nowhere'), { TOKEN: 'y' }).get('TOKEN'), 'y');
});

test('writeFileAtomic writes mode 0600, also over a looser existing file, and leaves no .tmp', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'nested', 'access.json');
  writeFileAtomic(path, 'first');
  assert.equal(readFileSync(path, 'utf8'), 'first');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  chmodSync(path, 0o644);
  writeFileAtomic(path, new TextEncoder().encode('second'));
  assert.equal(readFileSync(path, 'utf8'), 'second');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(join(dir, 'nested')), ['access.json']);
  assert.equal(statSync(join(dir, 'nested')).mode & 0o777, 0o700);
});

test('writeFileAtomic honours another mode and a stale .tmp left by a crash', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'bot.pid');
  writeFileSync(`${path}.tmp`, 'stale leftovers', { mode: 0o666 });
  writeFileAtomic(path, '123', 0o644);
  assert.equal(readFileSync(path, 'utf8'), '123');
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.equal(existsSync(`${path}.tmp`), false);
});

test('resolveStateDir: <NAME>_STATE_DIR, else $CLAUDE_CONFIG_DIR/channels/<name>, else ~/.claude', () => {
  const env = { TELEGRAM_STATE_DIR: '/srv/tg', CLAUDE_CONFIG_DIR: '/cfg' };
  assert.equal(resolveStateDir('telegram', env), '/srv/tg');
  assert.equal(resolveStateDir('telegram', { CLAUDE_CONFIG_DIR: '/cfg' }), '/cfg/channels/telegram');
  const otherChannel = { CLAUDE_CONFIG_DIR: '/cfg', DISCORD_STATE_DIR: '/d' };
  assert.equal(resolveStateDir('telegram', otherChannel), '/cfg/channels/telegram');
  const home = join(homedir(), '.claude', 'channels', 'telegram');
  assert.equal(resolveStateDir('telegram', {}), home);
  assert.equal(resolveStateDir('telegram', { TELEGRAM_STATE_DIR: '' }), home);
  assert.equal(resolveStateDir('fake-chat', { FAKE_CHAT_STATE_DIR: '/fc' }), '/fc');
});

test('envPrefix upper-cases the name and turns other characters into underscores', () => {
  assert.equal(envPrefix('fake-chat'), 'FAKE_CHAT');
  assert.equal(envPrefix('imessage'), 'IMESSAGE');
});
