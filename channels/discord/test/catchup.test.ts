/** Messages written while no session (or no gateway connection) was up arrive once, in order, when one is. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempStateDir } from '@openchannels/testkit';
import { ALICE_ID, accessJson, chatEvents, startDiscord, startInGuild, waitFor } from './helpers.js';

test('messages sent while no session ran arrive once, in order, when a session starts', async (t) => {
  const first = await startInGuild(t, { requireMention: true });
  const { general, bob } = first;
  const { dc, stateDir, alice, aliceDm } = first;
  await first.barrier(); // delivered: the DM now has a cursor
  dc.post(general, bob, 'chatter the bot does not answer');
  dc.post(general, bob, '<@500000000000000001> seen live', { mentionBot: true });
  await first.host.nextEvent((e) => e.content.endsWith('seen live'));
  await first.host.close();
  dc.postOffline(aliceDm, alice, 'while you were away 1');
  dc.postOffline(dc.dmChannel(bob), bob, 'a stranger, never delivered');
  dc.postOffline(general, bob, 'more chatter, no mention');
  dc.postOffline(aliceDm, alice, 'while you were away 2');
  dc.postOffline(general, bob, '<@500000000000000001> while you were away 3').mentions.push(dc.bot);
  const second = await startDiscord(t, { dc, stateDir });
  await second.host.nextEvent((e) => e.content.endsWith('while you were away 3'), 8000);
  await second.barrier();
  const events = chatEvents(second.host);
  assert.deepEqual(
    events.map((e) => [e.content, e.meta?.chat_id]),
    [
      ['while you were away 1', aliceDm.id],
      ['while you were away 2', aliceDm.id],
      ['<@500000000000000001> while you were away 3', general.id],
    ],
  );
});

test('a resumed gateway connection catches up on what its dispatches missed, without duplicates', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  const { dc, host, alice, aliceDm } = run;
  const delivered = dc.dm(alice, 'seen live');
  await host.nextEvent((e) => e.content === 'seen live');
  dc.postOffline(aliceDm, alice, 'dispatch lost');
  dc.disconnect(4000);
  await host.stderrMatch(/gateway session resumed/, 8000);
  await host.nextEvent((e) => e.content === 'dispatch lost', 8000);
  await run.barrier();
  const contents = chatEvents(host).map((e) => e.content);
  assert.deepEqual(contents, ['seen live', 'dispatch lost']);
  assert.equal(dc.gatewayOps.received.filter((op) => op === 2).length, 1, 'resumed, not identified anew');
  assert.ok(delivered.id);
});

test('a catch-up longer than one page of history (100) delivers every message in order', async (t) => {
  const first = await startDiscord(t);
  const { dc, stateDir, alice, aliceDm } = first;
  await first.barrier();
  await first.host.close();
  const texts = Array.from({ length: 130 }, (_, i) => `missed ${i + 1}`);
  for (const text of texts) dc.postOffline(aliceDm, alice, text);
  const second = await startDiscord(t, { dc, stateDir });
  await second.host.nextEvent((e) => e.content === 'missed 130', 10000);
  await second.barrier();
  assert.deepEqual(chatEvents(second.host).map((e) => e.content), texts);
  assert.equal(dc.callsTo('GET /channels/:id/messages').length, 2, 'two pages');
});

test('history from before the first connection ever is not news: nothing of it is delivered', async (t) => {
  const run = await startDiscord(t, {
    access: (dc) => {
      const alice = dc.user(ALICE_ID, 'alice');
      dc.postOffline(dc.dmChannel(alice), alice, 'an old conversation');
      return accessJson();
    },
  });
  await run.barrier();
  assert.deepEqual(chatEvents(run.host), []);
});

test('chats without a cursor yet catch up from when the bot was last connected: a new thread, a newly allowed user', async (t) => {
  const first = await startInGuild(t, { requireMention: false });
  const { general, random, bob } = first;
  const { dc, stateDir } = first;
  await first.barrier();
  await first.host.close();
  const plans = dc.thread(general, 'plans');
  dc.postOffline(plans, bob, 'a thread opened while you were away');
  dc.postOffline(dc.thread(random, 'elsewhere'), bob, 'a thread under a channel not opted in');
  dc.postOffline(dc.dmChannel(bob), bob, 'bob, allowed in the terminal while no session ran');
  first.writeAccess(accessJson({ allowFrom: [ALICE_ID, bob.id], groups: { [general.id]: { requireMention: false, allowFrom: [] } } }));
  const second = await startDiscord(t, { dc, stateDir });
  await second.host.nextEvent((e) => e.content.startsWith('bob, allowed'), 8000);
  await second.barrier();
  assert.deepEqual(
    chatEvents(second.host).map((e) => [e.content, e.meta?.chat_id]),
    [
      ['a thread opened while you were away', plans.id],
      ['bob, allowed in the terminal while no session ran', dc.dmChannel(bob).id],
    ],
  );
});

test('an unreadable cursors.json is said on stderr and the channel still starts and delivers', async (t) => {
  const stateDir = tempStateDir('discord-');
  writeFileSync(join(stateDir, 'cursors.json'), '{"since": "12", "chats": {"oops');
  const run = await startDiscord(t, { stateDir, access: accessJson() });
  await run.host.stderrMatch(/cursors\.json is unreadable .*; catching up only on chats seen from now on/);
  await run.barrier();
  // The next save replaces it with a well-formed file.
  await waitFor(() => {
    try {
      return typeof JSON.parse(readFileSync(join(stateDir, 'cursors.json'), 'utf8')).chats === 'object';
    } catch {
      return false;
    }
  }, 'cursors.json rewritten');
});
