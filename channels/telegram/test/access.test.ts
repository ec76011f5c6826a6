/** Who reaches the session: access.json, pairing, the approved/ hand-off, groups and mentions. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '@openchannels/testkit';
import { ALICE_ID, BOT, GROUP_ID, accessJson, chatEvents, sentTexts, startTelegram } from './helpers.js';

const PAIRING = /^Pairing required — run in Claude Code:\n\n\/telegram:access pair ([0-9a-f]{6})$/;

test('a stranger DMing in pairing mode gets a code and is not delivered; a reminder once, then silence', async (t) => {
  const { host, tg, readAccess, barrier } = await startTelegram(t);
  const bob = tg.user(222, 'bob');
  const before = Date.now();
  tg.dm(bob, 'hi, let me in');
  const first = await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === 222);
  const code = PAIRING.exec(String(first.params.text))?.[1];
  assert.ok(code, `pairing text: ${first.params.text}`);
  const entry = readAccess().pending[code];
  assert.ok(entry);
  assert.equal(entry.senderId, '222');
  assert.equal(entry.chatId, '222');
  assert.equal(entry.replies, 1);
  assert.ok(entry.createdAt >= before - 1000 && entry.createdAt <= Date.now());
  assert.equal(entry.expiresAt, entry.createdAt + 3_600_000);

  tg.dm(bob, 'hello?');
  const second = await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === 222);
  assert.equal(second.params.text, `Still pending — run in Claude Code:\n\n/telegram:access pair ${code}`);
  assert.equal(readAccess().pending[code]!.replies, 2);

  tg.dm(bob, 'anyone?');
  tg.dm(bob, 'hello???');
  await barrier();
  assert.equal(sentTexts(tg, 222).length, 2, 'no answer after the reminder');
  assert.deepEqual(chatEvents(host), [], 'nothing from the stranger reached the session');
});

test('with three codes pending, a fourth stranger gets no answer and no code', async (t) => {
  const { tg, readAccess, barrier } = await startTelegram(t);
  for (const id of [301, 302, 303]) tg.dm(tg.user(id), 'hi');
  tg.dm(tg.user(304), 'me too');
  await barrier();
  assert.deepEqual(
    Object.values(readAccess().pending)
      .map((p) => p.senderId)
      .sort(),
    ['301', '302', '303'],
  );
  assert.deepEqual(sentTexts(tg, 304), []);
});

test('an expired code is pruned on the next message, and its sender gets a fresh one', async (t) => {
  const old = {
    senderId: '222',
    chatId: '222',
    createdAt: Date.now() - 7_200_000,
    expiresAt: Date.now() - 3_600_000,
    replies: 2,
  };
  const { tg, readAccess } = await startTelegram(t, { access: accessJson({ pending: { abc123: old } }) });
  tg.dm(tg.user(222, 'bob'), 'back again');
  const reply = await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === 222);
  const code = PAIRING.exec(String(reply.params.text))?.[1];
  assert.ok(code && code !== 'abc123');
  assert.deepEqual(Object.keys(readAccess().pending), [code]);
});

test('under allowlist a stranger gets no reply and is not delivered', async (t) => {
  const { host, tg, barrier } = await startTelegram(t, { access: accessJson({ dmPolicy: 'allowlist' }) });
  tg.dm(tg.user(222, 'bob'), 'hello');
  await barrier();
  assert.deepEqual(sentTexts(tg, 222), []);
  assert.deepEqual(chatEvents(host), []);
});

test('disabled drops everything, allowlisted DMs and admitted groups included', async (t) => {
  const group = { [String(GROUP_ID)]: { requireMention: false, allowFrom: [] } };
  const { host, tg, alice } = await startTelegram(t, { access: accessJson({ dmPolicy: 'disabled', groups: group }) });
  tg.dm(alice, 'dm while disabled');
  tg.post(tg.group(GROUP_ID), alice, 'group while disabled');
  tg.dm(tg.user(222), 'stranger');
  await tg.allConfirmed();
  await host.events.settle(300);
  assert.deepEqual(host.events.received, []);
  assert.deepEqual(sentTexts(tg, 222), []);
});

test('an allowlisted DM arrives with chat_id, message_id, user, user_id and ts', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const message = tg.dm(alice, 'hello Claude');
  const event = await host.nextEvent();
  assert.equal(event.content, 'hello Claude');
  assert.deepEqual(event.meta, {
    chat_id: String(ALICE_ID),
    message_id: String(message.message_id),
    user: 'alice',
    user_id: String(ALICE_ID),
    ts: new Date(message.date * 1000).toISOString(),
  });
  // Without a username, user is the numeric id.
  tg.dm(tg.user(ALICE_ID), 'no username');
  assert.equal((await host.nextEvent()).meta?.user, String(ALICE_ID));
});

test('from a stranger to a paired chat: code, `openchannels access telegram pair`, confirmation, delivery', async (t) => {
  const { host, tg, stateDir } = await startTelegram(t);
  const bob = tg.user(222, 'bob');
  tg.dm(bob, 'hello bot');
  const reply = await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === 222);
  const code = PAIRING.exec(String(reply.params.text))![1]!;
  const pair = spawnSync(
    process.execPath,
    [join(repoRoot, 'packages/host/bin/openchannels.js'), 'access', 'telegram', 'pair', code],
    {
      env: { ...process.env, TELEGRAM_STATE_DIR: stateDir },
      encoding: 'utf8',
    },
  );
  assert.equal(pair.status, 0, pair.stderr);
  // An approval for a user Telegram will not let the bot write to: the send fails, the file still goes.
  writeFileSync(join(stateDir, 'approved', '999'), '999');
  const confirmation = await tg.findCall(
    'sendMessage',
    (call) => call.params.text === 'Paired! Say hi to Claude.',
    7000,
  );
  assert.equal(Number(confirmation.params.chat_id), 222);
  const failed = await tg.findCall('sendMessage', (call) => Number(call.params.chat_id) === 999, 7000);
  assert.equal(failed.error, 'Bad Request: chat not found');
  const approved = join(stateDir, 'approved');
  const deadline = Date.now() + 1000;
  while (readdirSync(approved).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(readdirSync(approved), []);
  await host.stderrMatch(/could not confirm the pairing of 999: Bad Request: chat not found/);
  tg.dm(bob, 'hi Claude!');
  assert.equal((await host.nextEvent()).content, 'hi Claude!');
});

test('access.json changes apply from the next message, without a restart', async (t) => {
  const { host, tg, writeAccess, barrier } = await startTelegram(t);
  const carol = tg.user(333, 'carol');
  tg.dm(carol, 'first try');
  await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === 333);
  writeAccess(accessJson({ allowFrom: [String(ALICE_ID), '333'] }));
  tg.dm(carol, 'second try');
  assert.equal((await host.nextEvent()).content, 'second try');
  await barrier();
  assert.equal(sentTexts(tg, 333).length, 1);
});

test('a corrupt access.json is moved aside with a notice and the defaults apply', async (t) => {
  const { host, tg, stateDir } = await startTelegram(t, { access: null });
  writeFileSync(join(stateDir, 'access.json'), '{"dmPolicy": "allowlist", oops');
  tg.dm(tg.user(222), 'hello');
  const reply = await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === 222);
  assert.match(String(reply.params.text), PAIRING, 'pairing, the default policy');
  await host.stderrMatch(/moved aside/);
  assert.equal(readdirSync(stateDir).filter((name) => name.startsWith('access.json.corrupt-')).length, 1);
});

test('without access.json the policy is pairing with nobody allowlisted', async (t) => {
  const { host, tg, alice } = await startTelegram(t, { access: null });
  tg.dm(alice, 'am I known?');
  const reply = await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === ALICE_ID);
  assert.match(String(reply.params.text), PAIRING);
  await host.events.settle(200);
  assert.deepEqual(host.events.received, []);
});

test('saves drop unknown keys and are written whole with mode 0600', async (t) => {
  const { tg, stateDir, readAccess } = await startTelegram(t, {
    access: accessJson({ legacyField: 'x', ackReaction: '👀' }),
  });
  tg.dm(tg.user(222), 'hello');
  await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === 222);
  const saved = readAccess();
  assert.equal('legacyField' in saved, false);
  assert.equal(saved.ackReaction, '👀', 'known settings are kept');
  assert.equal(statSync(join(stateDir, 'access.json')).mode & 0o777, 0o600);
  assert.equal(existsSync(join(stateDir, 'access.json.tmp')), false);
  assert.ok(readFileSync(join(stateDir, 'access.json'), 'utf8').endsWith('}\n'));
});

test('static mode: read once, pairing becomes allowlist with a warning, nothing written, approved/ ignored', async (t) => {
  const { host, tg, alice, stateDir, writeAccess, barrier } = await startTelegram(t, {
    env: { TELEGRAM_ACCESS_MODE: 'static' },
  });
  await host.stderrMatch(/static mode — dmPolicy "pairing" downgraded to "allowlist"/);
  const before = readFileSync(join(stateDir, 'access.json'), 'utf8');
  writeAccess(accessJson({ allowFrom: [String(ALICE_ID), '222'] }));
  const afterEdit = readFileSync(join(stateDir, 'access.json'), 'utf8');
  mkdirSync(join(stateDir, 'approved'));
  writeFileSync(join(stateDir, 'approved', String(ALICE_ID)), String(ALICE_ID));
  tg.dm(tg.user(222, 'bob'), 'added after boot');
  tg.dm(alice, 'allowlisted at boot');
  assert.equal((await host.nextEvent()).content, 'allowlisted at boot');
  await barrier();
  assert.deepEqual(sentTexts(tg, 222), [], 'no pairing code, and the edit after boot is ignored');
  assert.notEqual(before, afterEdit);
  assert.equal(readFileSync(join(stateDir, 'access.json'), 'utf8'), afterEdit, 'the server never wrote the file');
  assert.ok(existsSync(join(stateDir, 'approved', String(ALICE_ID))), 'approved/ is not polled');
});

// ---- groups ----

const groupAccess = (group: { requireMention?: boolean; allowFrom?: string[] }, extra = {}) =>
  accessJson({ groups: { [String(GROUP_ID)]: { requireMention: true, allowFrom: [], ...group } }, ...extra });

test('a message from a group not in groups is dropped, and never starts pairing', async (t) => {
  const { host, tg, barrier } = await startTelegram(t);
  const dave = tg.user(444, 'dave');
  tg.post(tg.group(-100999), dave, `@${BOT} hello from an unknown group`);
  await barrier();
  assert.deepEqual(chatEvents(host), []);
  assert.deepEqual(sentTexts(tg, -100999), []);
  assert.deepEqual(sentTexts(tg, 444), []);
});

test('with requireMention only messages that mention the bot (any case, or by picking it) pass', async (t) => {
  const { host, tg, barrier } = await startTelegram(t, { access: groupAccess({}) });
  const group = tg.group(GROUP_ID);
  const dave = tg.user(444, 'dave');
  tg.post(group, dave, 'talking among ourselves');
  tg.post(group, dave, '@some_other_bot do something');
  tg.post(group, dave, `hey @${BOT.toUpperCase()} what do you think?`);
  tg.post(group, dave, {
    text: 'Claude, look',
    entities: [{ type: 'text_mention', offset: 0, length: 6, user: tg.me }],
  });
  tg.post(group, dave, { caption: `@${BOT} see photo`, photo: tg.photo('jpeg bytes') });
  await barrier();
  const events = chatEvents(host);
  assert.deepEqual(
    events.map((e) => e.content),
    [`hey @${BOT.toUpperCase()} what do you think?`, 'Claude, look', `@${BOT} see photo`],
  );
  assert.equal(events[0]!.meta?.chat_id, String(GROUP_ID));
  assert.equal(events[0]!.meta?.user_id, '444');
});

test("a reply to one of the bot's messages counts as a mention", async (t) => {
  const { host, tg } = await startTelegram(t, { access: groupAccess({}) });
  const group = tg.group(GROUP_ID);
  const dave = tg.user(444, 'dave');
  const reply = await host.tool('reply', { chat_id: String(GROUP_ID), text: 'Anything else?' });
  const botMessage = tg.message(GROUP_ID, /id: (\d+)/.exec(reply.text)![1]!)!;
  const daves = tg.post(group, dave, 'no mention here');
  tg.post(group, dave, { text: 'yes, one more thing', replyTo: botMessage });
  tg.post(group, dave, { text: 'replying to dave, not the bot', replyTo: daves });
  tg.post(group, dave, `@${BOT} done`);
  const first = await host.nextEvent();
  assert.equal(first.content, 'yes, one more thing');
  assert.equal((await host.nextEvent()).content, `@${BOT} done`);
  assert.equal(host.events.received.length, 2);
});

test('mentionPatterns match case-insensitively; an invalid pattern is skipped, not fatal', async (t) => {
  const { host, tg } = await startTelegram(t, {
    access: groupAccess({}, { mentionPatterns: ['([unclosed', '^claude\\b'] }),
  });
  const group = tg.group(GROUP_ID);
  const dave = tg.user(444, 'dave');
  tg.post(group, dave, 'unrelated chatter');
  tg.post(group, dave, 'CLAUDE, summarise this thread');
  assert.equal((await host.nextEvent()).content, 'CLAUDE, summarise this thread');
  await host.stderrMatch(/ignoring invalid mentionPatterns entry/);
});

test("a group's allowFrom keeps other members out even when they mention the bot", async (t) => {
  const { host, tg } = await startTelegram(t, { access: groupAccess({ requireMention: false, allowFrom: ['444'] }) });
  const group = tg.group(GROUP_ID);
  tg.post(group, tg.user(555, 'erin'), `@${BOT} let me in`);
  tg.post(group, tg.user(444, 'dave'), 'no mention needed for me');
  assert.equal((await host.nextEvent()).content, 'no mention needed for me');
  assert.equal(host.events.received.length, 1);
});

test('group members need not be in the top-level allowFrom, and a group message never pairs', async (t) => {
  const { host, tg } = await startTelegram(t, { access: groupAccess({ requireMention: false }) });
  tg.post(tg.group(GROUP_ID), tg.user(666, 'frank'), 'hello from a member');
  assert.equal((await host.nextEvent()).meta?.user, 'frank');
  assert.deepEqual(sentTexts(tg, GROUP_ID), []);
});
