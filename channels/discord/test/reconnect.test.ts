/** What the user reads on stderr when Discord drops, invalidates, rate-limits or refuses the bot. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatEvents, startDiscord } from './helpers.js';

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

test('a missing intent (close code 4014) is reported once, naming the switch in the Developer Portal', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  run.dc.disconnect(4014);
  await run.host.stderrMatch(/close code 4014.*Turn on MESSAGE CONTENT INTENT in the Developer Portal \(Bot → Privileged Gateway Intents\)/, 8000);
  await run.host.stderr.settle(500);
  assert.equal(run.host.stderr.received.filter((l) => l.includes('4014')).length, 1);
  // Discord would refuse again: the client does not hammer it with new connections.
  assert.equal(run.dc.gatewayOps.received.filter((op) => op === 2 || op === 6).length, 1);
});

test('heartbeats left unacknowledged: the dead connection is said, dropped and resumed; nothing is lost', async (t) => {
  const run = await startDiscord(t, { fake: { heartbeatMs: 250 } });
  const { dc } = run;
  await run.barrier();
  dc.stopAcknowledgingHeartbeats();
  dc.postOffline(run.aliceDm, run.alice, 'sent while the connection was dead');
  await run.host.stderrMatch(/gateway heartbeat not acknowledged by Discord: the connection is dead; reconnecting to resume/, 8000);
  await run.host.stderrMatch(/gateway session resumed/, 8000);
  await run.barrier();
  assert.deepEqual(chatEvents(run.host).map((e) => e.content), ['sent while the connection was dead']);
  assert.ok(run.dc.gatewayOps.received.includes(6), 'resumed');
  assert.ok(!run.host.stderr.received.some((l) => /code 4200/.test(l)), 'no confusing close code line');
});

test('a session that ends closes its gateway connection without announcing a reconnect', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  await run.host.close();
  assert.ok(run.host.stderr.received.some((l) => /shutting down/.test(l)));
  assert.deepEqual(run.host.stderr.received.filter((l) => /reconnect/.test(l)), []);
});
