/** Catch-up cursors on disk: forward only, written soon after they move, hand edits survived. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempStateDir } from '@openchannels/testkit';
import { Cursors, snowflakeAt } from '../src/cursors.js';

function dir(t: { after(fn: () => void): void }): string {
  const stateDir = tempStateDir('discord-cursors-');
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  return stateDir;
}

test('a snowflake made from a time sorts with the ids Discord gave at that time', () => {
  // 175928847299117063 was created 2016-04-30T11:18:25.796Z (Discord's documentation example).
  assert.ok(BigInt(snowflakeAt(Date.parse('2016-04-30T11:18:25.796Z'))) <= 175928847299117063n);
  assert.ok(BigInt(snowflakeAt(Date.parse('2016-04-30T11:18:25.797Z'))) > 175928847299117063n);
});

test('cursors only move forward and are on disk after a moment, or at once when flushed', async (t) => {
  const stateDir = dir(t);
  const lines: string[] = [];
  const cursors = new Cursors(stateDir, (line) => lines.push(line));
  cursors.advance('111111', '900');
  cursors.advance('111111', '800');
  assert.equal(cursors.get('111111'), '900');
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(JSON.parse(readFileSync(join(stateDir, 'cursors.json'), 'utf8')).chats, { '111111': '900' });
  cursors.advance('222222', '950');
  cursors.connectedAt(Date.parse('2026-01-01T00:00:00Z'));
  cursors.flush();
  const saved = JSON.parse(readFileSync(join(stateDir, 'cursors.json'), 'utf8'));
  assert.equal(saved.chats['222222'], '950');
  assert.equal(saved.since, snowflakeAt(Date.parse('2026-01-01T00:00:00Z') - 60_000));
  assert.deepEqual(lines, []);
});

test('hand-edited entries that are not snowflakes are left out; the rest still counts', (t) => {
  const stateDir = dir(t);
  writeFileSync(
    join(stateDir, 'cursors.json'),
    JSON.stringify({ since: 'yesterday', chats: { '111111': '900', '222222': 'latest', abc: '5', '333333': 7 } }),
  );
  const cursors = new Cursors(stateDir, () => {});
  assert.equal(cursors.get('111111'), '900');
  assert.equal(cursors.get('222222'), undefined);
  assert.equal(cursors.get('333333'), undefined);
  assert.equal(cursors.since(), undefined);
});
