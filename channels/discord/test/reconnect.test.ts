/** What the user reads on stderr when Discord drops, invalidates, rate-limits or refuses the bot. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDiscord } from './helpers.js';

test('an invalidated session is reported and identified anew; messages flow again', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  run.dc.invalidateSession();
  await run.host.stderrMatch(/gateway session invalidated by Discord; identifying anew/, 8000);
  await run.host.stderrMatch(/gateway connected as claude-test \(new session\)/, 8000);
  await run.barrier();
  assert.equal(run.dc.gatewayOps.received.filter((op) => op === 2).length, 2);
});

test('a 429 is waited out (retry_after) and said on stderr; the reply still goes through', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  run.dc.rateLimitNext('POST /channels/:id/messages', 0.4);
  const started = Date.now();
  const result = await run.host.tool('reply', { chat_id: run.aliceDm.id, text: 'patience' });
  assert.equal(result.isError, false, result.text);
  assert.ok(Date.now() - started >= 350, 'waited for retry_after');
  assert.deepEqual(run.dc.sentTexts(run.aliceDm), ['patience']);
  await run.host.stderrMatch(/rate limited on POST \/channels\/:id\/messages: retrying in 0\.[45]s/);
});

test('a revoked token (close code 4004) is reported once, with what to do', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  run.dc.revokeToken();
  const [line] = await run.host.stderrMatch(/Discord refused the bot token \(close code 4004.*/, 8000);
  assert.match(line, /Bot → Reset Token\) into DISCORD_BOT_TOKEN in .*\.env, then restart the session/);
  await run.host.stderr.settle(500);
  const mentions = run.host.stderr.received.filter((l) => /4004|Authentication failed/.test(l));
  assert.equal(mentions.length, 1, mentions.join('\n'));
});
