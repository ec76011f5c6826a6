/** What reaches the session from Discord: the DM gate, opted-in channels and threads, meta and attachments. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DcChannel, repoRoot } from '@openchannels/testkit';
import { ALICE_ID, accessJson, chatEvents, startDiscord, startInGuild, waitFor } from './helpers.js';

test('an allowlisted DM arrives with the reference meta, typing and the ack reaction', async (t) => {
  const run = await startDiscord(t, { access: accessJson({ ackReaction: '👀' }) });
  await run.barrier();
  const sent = run.dc.dm(run.alice, 'hi <@123> there', {
    attachments: [{ filename: 'shot [1];.png', data: Buffer.alloc(2048), content_type: 'image/png' }],
  });
  const event = await run.host.nextEvent((e) => e.content.startsWith('hi'));
  assert.equal(event.content, 'hi <@123> there');
  assert.deepEqual(event.meta, {
    chat_id: run.aliceDm.id,
    message_id: sent.id,
    user: 'alice',
    user_id: ALICE_ID,
    ts: sent.timestamp,
    attachment_count: '1',
    attachments: 'shot _1__.png (image/png, 2KB)',
  });
  assert.notEqual(event.meta?.chat_id, ALICE_ID, 'a DM chat id is the DM channel, not the user');
  await run.dc.nextCall('POST /channels/:id/typing', (c) => c.path.includes(run.aliceDm.id));
  const ack = await run.dc.nextCall('PUT /channels/:id/messages/:id/reactions/:emoji/@me', (c) => c.path.includes(sent.id));
  assert.equal(ack.body.emoji, '👀');
});

test('a stranger gets a pairing code as a quote-reply; pairing records the DM channel', async (t) => {
  const run = await startDiscord(t, { access: accessJson({ allowFrom: [] }) });
  await run.dc.connected();
  const bob = run.dc.user('200000000000000222', 'bob');
  const sent = run.dc.dm(bob, 'hello?');
  const reply = await run.dc.nextCall('POST /channels/:id/messages');
  assert.match(String(reply.body.content), /^Pairing required — run in Claude Code:\n\n\/discord:access pair [a-z0-9]{6}$/);
  assert.deepEqual(reply.body.message_reference, { message_id: sent.id, fail_if_not_exists: false });
  const pending = Object.values(run.readAccess().pending);
  assert.deepEqual(pending.map((p) => [p.senderId, p.chatId]), [[bob.id, run.dc.dmChannel(bob).id]]);
  await run.host.events.settle(200);
  assert.equal(chatEvents(run.host).length, 0, 'nothing from a stranger reaches the session');
});

test('bots are never delivered, and the allowlist policy drops strangers without an answer', async (t) => {
  const run = await startDiscord(t, { access: accessJson({ dmPolicy: 'allowlist' }) });
  await run.barrier();
  const robot = run.dc.user('200000000000000333', 'robot', true);
  run.dc.dm(robot, 'beep');
  run.dc.dm(run.dc.user('200000000000000444', 'carol'), 'let me in');
  await run.barrier();
  assert.deepEqual(chatEvents(run.host), []);
  assert.equal(run.dc.callsTo('POST /channels/:id/messages').length, 0, 'no answer to anyone');
});

test('guild channels: opted-in only, requireMention, per-channel allowFrom, threads gated by their parent', async (t) => {
  let general!: DcChannel;
  let random!: DcChannel;
  let quiet!: DcChannel;
  const run = await startDiscord(t, {
    access: (dc) => {
      general = dc.guildChannel('general');
      random = dc.guildChannel('random');
      quiet = dc.guildChannel('quiet');
      return accessJson({
        groups: {
          [general.id]: { requireMention: true, allowFrom: [] },
          [quiet.id]: { requireMention: false, allowFrom: [ALICE_ID] },
        },
      });
    },
  });
  await run.barrier();
  const { dc, alice } = run;
  const bob = dc.user('200000000000000222', 'bob');
  dc.post(general, bob, 'no mention here');
  dc.post(random, bob, 'not opted in', { mentionBot: true });
  dc.post(quiet, bob, 'bob is not on this channel list');
  const mention = dc.post(general, bob, '<@500000000000000001> hello', { mentionBot: true });
  const thread = dc.thread(general, 'plans');
  dc.post(thread, bob, 'in the thread', { mentionBot: true });
  dc.post(quiet, alice, 'alice may talk here');
  await run.barrier();
  const events = chatEvents(run.host);
  assert.deepEqual(
    events.map((e) => [e.content, e.meta?.chat_id]),
    [
      ['<@500000000000000001> hello', general.id],
      ['in the thread', thread.id],
      ['alice may talk here', quiet.id],
    ],
  );
  // A reply to the bot's message counts as a mention.
  const ours = await run.host.tool('reply', { chat_id: general.id, text: 'anyone?' });
  const ourId = /id: (\d+)/.exec(ours.text)![1]!;
  dc.post(general, bob, 'me!', { replyTo: ourId });
  const reply = await run.host.nextEvent((e) => e.content === 'me!');
  assert.equal(reply.meta?.user, 'bob');
  assert.equal(mention.channel_id, general.id);
});

test('an approved pairing is announced in the DM channel the skill wrote down', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  const bob = run.dc.user('200000000000000222', 'bob');
  const bobDm = run.dc.dmChannel(bob);
  mkdirSync(join(run.stateDir, 'approved'), { recursive: true });
  writeFileSync(join(run.stateDir, 'approved', bob.id), `${bobDm.id}\n`);
  await run.dc.nextCall('POST /channels/:id/messages', (c) => c.path.includes(bobDm.id), 8000);
  assert.deepEqual(run.dc.sentTexts(bobDm), ['Paired! Say hi to Claude.']);
});

test("mentioning a role the bot holds counts as mentioning the bot; other roles do not", async (t) => {
  const run = await startInGuild(t, { requireMention: true });
  const { general, bob } = run;
  const { dc } = run;
  dc.botRoles = ['700000000000000001'];
  await run.barrier();
  dc.post(general, bob, '<@&700000000000000002> moderators, not the bot', { mentionRoles: ['700000000000000002'] });
  dc.post(general, bob, '<@&700000000000000001> the bot by its role', { mentionRoles: ['700000000000000001'] });
  await run.barrier();
  assert.deepEqual(chatEvents(run.host).map((e) => e.content), ['<@&700000000000000001> the bot by its role']);
  // The roles are looked up once, not per message.
  assert.equal(dc.callsTo('GET /guilds/:id/members/:id').length, 1);
});

test('a burst shows "typing…" once, not once per message; after the bot answers, the next message shows it again', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  const typingCalls = () => run.dc.callsTo('POST /channels/:id/typing').filter((c) => c.path.includes(run.aliceDm.id)).length;
  await waitFor(() => typingCalls() === 1, 'the first typing call');
  for (let i = 0; i < 5; i++) run.dc.dm(run.alice, `quick ${i}`);
  await run.barrier();
  assert.equal(chatEvents(run.host).length, 5);
  await run.dc.calls.settle(200);
  assert.equal(typingCalls(), 1, 'Discord still shows the first one');
  await run.host.tool('reply', { chat_id: run.aliceDm.id, text: 'done' });
  await run.barrier();
  await waitFor(() => typingCalls() === 2, 'typing again after the answer');
});

test('the README journey: a first DM, the code, `openchannels access discord pair`, "Paired!", then the conversation', async (t) => {
  const run = await startDiscord(t, { access: null });
  await run.dc.connected();
  const bob = run.dc.user('200000000000000222', 'bob');
  const bobDm = run.dc.dmChannel(bob);
  run.dc.dm(bob, 'hello?');
  const pairing = await run.dc.nextCall('POST /channels/:id/messages', (c) => c.path.includes(bobDm.id));
  const code = /pair ([a-z0-9]{6})$/.exec(String(pairing.body.content))![1]!;
  const cli = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'packages/host/bin/openchannels.js'), 'access', 'discord', 'pair', code],
      { env: { ...process.env, DISCORD_STATE_DIR: run.stateDir }, encoding: 'utf8' },
      (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout }),
    );
  });
  assert.equal(cli.code, 0, cli.stdout);
  await run.dc.nextCall('POST /channels/:id/messages', (c) => c.path.includes(bobDm.id) && c.body.content === 'Paired! Say hi to Claude.', 8000);
  run.dc.dm(bob, 'hi Claude');
  const event = await run.host.nextEvent((e) => e.content === 'hi Claude');
  assert.deepEqual([event.meta?.user, event.meta?.chat_id], ['bob', bobDm.id]);
  const answer = await run.host.tool('reply', { chat_id: bobDm.id, text: 'hello bob' });
  assert.equal(answer.isError, false, answer.text);
  assert.deepEqual(run.dc.sentTexts(bobDm).slice(-2), ['Paired! Say hi to Claude.', 'hello bob']);
});
