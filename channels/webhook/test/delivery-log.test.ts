/** The replay guard's file: what survives a restart, how the file stays bounded, and damage it survives. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReplayGuard } from '../src/verify.js';
import { scratchDir } from './helpers.js';

/** A guard on `<fresh dir>/deliveries.log`, and a way to start another on the same file, as a restart does. */
function persistentGuards(capacity?: number) {
  const path = join(scratchDir(), 'deliveries.log');
  const logs: string[] = [];
  const start = () => new ReplayGuard({ capacity, persist: { path, log: (line) => logs.push(line) } });
  return { path, logs, start };
}

function fileLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

test('claimed ids are refused after a restart; a released one is accepted', () => {
  const { logs, start } = persistentGuards();
  const before = start();
  assert.equal(before.claim('github', 'delivered'), true);
  assert.equal(before.claim('github', 'failed'), true);
  before.release('github', 'failed');
  const after = start();
  assert.equal(after.claim('github', 'delivered'), false);
  assert.equal(after.claim('ci', 'delivered'), true, 'ids are per source');
  assert.equal(after.claim('github', 'failed'), true, 'the retry of a delivery that failed');
  assert.deepEqual(logs, []);
});

test('the file is rewritten with only the most recent ids when it reaches twice the capacity', () => {
  const { path, start } = persistentGuards(3);
  const guard = start();
  let longest = 0;
  for (let i = 1; i <= 20; i++) {
    guard.claim('github', `d${i}`);
    if (i % 4 === 0) guard.release('github', `d${i}`);
    longest = Math.max(longest, fileLines(path).length);
  }
  assert.equal(longest, 6, 'never more than twice the capacity');
  const after = start();
  // Claiming d20 pushed d17 out, then d20 was released: d18 and d19 stand.
  for (const id of ['d18', 'd19']) assert.equal(after.claim('github', id), false, id);
  for (const id of ['d20', 'd17', 'd1']) assert.equal(after.claim('github', id), true, id);
});

test('a restart keeps the most recent ids when the file holds more than the capacity', () => {
  const { path, start } = persistentGuards(2);
  const claims = ['a', 'b', 'c'].map((id) => JSON.stringify({ t: 'claim', source: 'github', delivery: id }));
  writeFileSync(path, `${claims.join('\n')}\n`);
  const guard = start();
  assert.equal(guard.claim('github', 'c'), false);
  assert.equal(guard.claim('github', 'b'), false);
  assert.equal(guard.claim('github', 'a'), true);
});

test('lines that are not records are skipped with one log line, and the next write leaves a clean file', () => {
  const { path, logs, start } = persistentGuards();
  const good = JSON.stringify({ t: 'claim', source: 'github', delivery: 'good' });
  // The last line is a whole record without its newline: appending straight after it would join the two.
  const tornButWhole = JSON.stringify({ t: 'claim', source: 'github', delivery: 'last' });
  writeFileSync(path, ['not json', good, '{"t":"claim"}', '42', '', tornButWhole].join('\n'));
  const guard = start();
  assert.deepEqual(logs, [`${path}: skipped 3 line(s) that are not delivery records`]);
  assert.equal(guard.claim('github', 'good'), false);
  assert.equal(guard.claim('github', 'last'), false);
  assert.equal(guard.claim('github', 'new'), true);
  assert.deepEqual(
    fileLines(path).map((line) => JSON.parse(line) as unknown),
    ['good', 'last', 'new'].map((delivery) => ({ t: 'claim', source: 'github', delivery })),
  );
  assert.equal(readFileSync(path, 'utf8').endsWith('\n'), true);
  start();
  assert.equal(logs.length, 1, 'a clean file logs nothing at the next start');
});

test('the file is mode 0600, also when it was created looser', () => {
  const created = persistentGuards();
  created.start().claim('github', 'd1');
  assert.equal(statSync(created.path).mode & 0o777, 0o600);
  const loose = persistentGuards();
  writeFileSync(loose.path, '');
  chmodSync(loose.path, 0o644);
  loose.start();
  assert.equal(statSync(loose.path).mode & 0o777, 0o600);
});

test('a file that cannot be read or written is logged, and the guard still works in memory', () => {
  const { path, logs, start } = persistentGuards();
  mkdirSync(path); // a directory where the file should be
  const guard = start();
  assert.match(logs[0] ?? '', /^could not read \S+deliveries\.log \(.*EISDIR.*\); deliveries received before this start are not refused as replays$/);
  assert.equal(guard.claim('github', 'd1'), true);
  assert.equal(guard.claim('github', 'd1'), false);
  assert.match(logs[1] ?? '', /^could not record the claim of delivery d1 \(github\) in \S+: .*; a replay of it is refused only until the channel restarts$/);
});
