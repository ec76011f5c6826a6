/** What reaches the session for each kind of message, and what the sender sees happen. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ALICE_ID, GROUP_ID, accessJson, chatEvents, sentTexts, startTelegram } from './helpers.js';

test("an allowlisted user's photo is saved into the inbox and its path given as image_path", async (t) => {
  const { host, tg, alice, stateDir } = await startTelegram(t);
  tg.dm(alice, { photo: tg.photo('the photo bytes', 'png'), caption: 'what is this?' });
  const event = await host.nextEvent();
  assert.equal(event.content, 'what is this?');
  const path = event.meta?.image_path ?? '';
  assert.equal(dirname(path), join(stateDir, 'inbox'));
  assert.match(path, /\/\d+-AgAD2x\.png$/);
  assert.equal(readFileSync(path, 'utf8'), 'the photo bytes', 'the largest size was fetched');
  tg.dm(alice, { photo: tg.photo('no caption') });
  assert.equal((await host.nextEvent()).content, '(photo)');
});

test("a stranger's photo is never downloaded", async (t) => {
  const { tg, barrier } = await startTelegram(t);
  tg.dm(tg.user(222), { photo: tg.photo('unsolicited') });
  await barrier();
  assert.deepEqual(tg.callsTo('getFile'), []);
});

test('a photo that cannot be fetched still arrives, without image_path, and the failure is logged', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  tg.fail('getFile', { status: 500 });
  tg.dm(alice, { photo: tg.photo('lost'), caption: 'did it arrive?' });
  const event = await host.nextEvent();
  assert.equal(event.content, 'did it arrive?');
  assert.equal(event.meta?.image_path, undefined);
  await host.stderrMatch(/photo download failed: Internal Server Error/);
});

test('documents, voice, audio, video, video notes and stickers are described, not downloaded', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const file = (data: string) => tg.fileFields(tg.addFile(data));
  const doc = file('%PDF');
  tg.dm(alice, { document: { ...doc, file_name: 'report.pdf', mime_type: 'application/pdf' } });
  tg.dm(alice, { document: { ...file('x') }, caption: 'see attached' });
  tg.dm(alice, { voice: { ...file('ogg'), duration: 3, mime_type: 'audio/ogg' } });
  tg.dm(alice, { audio: { ...file('mp3'), duration: 200, title: 'Song <b>', file_name: 'song.mp3' } });
  tg.dm(alice, { audio: { ...file('mp3'), duration: 200, file_name: 'track.mp3' } });
  tg.dm(alice, { video: { ...file('mp4'), width: 640, height: 480, duration: 5 } });
  tg.dm(alice, { video_note: { ...file('mp4'), length: 240, duration: 5 } });
  tg.dm(alice, { sticker: { ...file('webp'), width: 512, height: 512, type: 'regular', emoji: '😀' } });
  const events = [];
  for (let i = 0; i < 8; i++) events.push(await host.nextEvent());
  assert.deepEqual(
    events.map((e) => [e.content, e.meta?.attachment_kind]),
    [
      ['(document: report.pdf)', 'document'],
      ['see attached', 'document'],
      ['(voice message)', 'voice'],
      ['(audio: Song _b_)', 'audio'],
      ['(audio: track.mp3)', 'audio'],
      ['(video)', 'video'],
      ['(video note)', 'video_note'],
      ['(sticker 😀)', 'sticker'],
    ],
  );
  const { chat_id, attachment_file_id, attachment_size, attachment_mime, attachment_name } = events[0]!.meta!;
  assert.deepEqual(
    { chat_id, attachment_file_id, attachment_size, attachment_mime, attachment_name },
    {
      chat_id: String(ALICE_ID),
      attachment_file_id: doc.file_id,
      attachment_size: '4',
      attachment_mime: 'application/pdf',
      attachment_name: 'report.pdf',
    },
  );
  assert.equal(events[1]!.meta?.attachment_name, undefined, 'no name when Telegram gives none');
  assert.deepEqual(tg.callsTo('getFile'), []);
});

test('a file name cannot break out of the tag: <>[] newlines and ; become _', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const evil = 'a<b>[c]\r\nd;e="x".txt';
  tg.dm(alice, { document: { ...tg.fileFields(tg.addFile('x')), file_name: evil } });
  const event = await host.nextEvent();
  assert.equal(event.content, '(document: a_b__c___d_e="x".txt)');
  assert.equal(event.meta?.attachment_name, 'a_b__c___d_e="x".txt');
});

test('a voice note does not hold up the message after it', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  // A large voice note whose file Telegram would be slow to serve.
  const voice = tg.addFile(Buffer.alloc(5 * 1024 * 1024), 'voice/file_big.oga');
  tg.fail('getFile', { delayMs: 10_000 });
  const sentAt = Date.now();
  tg.dm(alice, { voice: { ...tg.fileFields(voice), duration: 300 } });
  tg.dm(alice, 'and a text right after');
  assert.equal((await host.nextEvent()).content, '(voice message)');
  assert.equal((await host.nextEvent()).content, 'and a text right after');
  assert.ok(Date.now() - sentAt < 1500, `both arrived after ${Date.now() - sentAt} ms`);
});

test('each delivered message shows "typing…", and gets the ackReaction when one is set', async (t) => {
  const { host, tg, alice } = await startTelegram(t, { access: accessJson({ ackReaction: '👀' }) });
  const message = tg.dm(alice, 'on it?');
  await host.nextEvent();
  const typing = await tg.nextCall('sendChatAction');
  assert.deepEqual([Number(typing.params.chat_id), typing.params.action], [ALICE_ID, 'typing']);
  const reaction = await tg.nextCall('setMessageReaction');
  assert.equal(Number(reaction.params.message_id), message.message_id);
  assert.deepEqual(reaction.params.reaction, [{ type: 'emoji', emoji: '👀' }]);
  assert.equal(reaction.error, undefined);
});

test('an ackReaction Telegram refuses is reported once, and messages still arrive', async (t) => {
  const { host, tg, alice } = await startTelegram(t, { access: accessJson({ ackReaction: '✅' }) });
  tg.dm(alice, 'one');
  tg.dm(alice, 'two');
  await host.nextEvent();
  await host.nextEvent();
  await host.stderrMatch(/ackReaction ✅ failed: Telegram does not allow ✅ as a reaction/);
  await tg.nextCall('setMessageReaction');
  await tg.nextCall('setMessageReaction');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(host.stderr.received.filter((line) => line.includes('ackReaction')).length, 1);
});

test('edits, channel posts, locations and messages without a sender are ignored', async (t) => {
  const { host, tg, alice, barrier } = await startTelegram(t);
  const original = tg.dm(alice, 'original');
  await host.nextEvent();
  tg.inject({ edited_message: { ...original, text: 'edited', edit_date: 1 } });
  tg.dm(alice, { location: { latitude: 1, longitude: 2 } });
  tg.post({ id: -100777, type: 'channel', title: 'News' }, undefined, 'a channel post');
  tg.post(tg.group(GROUP_ID), undefined, 'anonymous');
  await barrier();
  assert.deepEqual(
    chatEvents(host).map((e) => e.content),
    ['original'],
  );
});

test('/start, /help and /status answer in DMs and are never forwarded', async (t) => {
  const { host, tg, alice, barrier } = await startTelegram(t);
  tg.dm(alice, '/start');
  tg.dm(alice, '/help');
  tg.dm(alice, '/status');
  tg.dm(tg.user(ALICE_ID + 1), '/status');
  tg.dm(alice, `/status@claude_test_bot`);
  await barrier();
  const [start, help, status, statusAt] = sentTexts(tg, ALICE_ID);
  assert.equal(
    start,
    "This bot bridges Telegram to a Claude Code session.\n\nTo pair:\n1. DM me anything — you'll get a 6-char code\n2. In Claude Code: /telegram:access pair <code>\n\nAfter that, DMs here reach that session.",
  );
  assert.equal(
    help,
    'Messages you send here route to a paired Claude Code session. Text and photos are forwarded; replies and reactions come back.\n\n/start — pairing instructions\n/status — check your pairing state\n' +
      '/sessions — the Claude Code sessions attached\n/use <n> — choose the one that receives your messages',
  );
  assert.equal(status, 'Paired as @alice.');
  assert.equal(statusAt, 'Paired as @alice.');
  assert.deepEqual(sentTexts(tg, ALICE_ID + 1), ['Not paired. Send me a message to get a pairing code.']);
  assert.deepEqual(chatEvents(host), []);
  // Other commands are ordinary text.
  tg.dm(alice, '/deploy now');
  assert.equal((await host.nextEvent()).content, '/deploy now');
});

test('/status shows a pending code without spending the reminder; a paired user without username is named by id', async (t) => {
  const { tg, readAccess, barrier } = await startTelegram(t, {
    access: accessJson({ allowFrom: [String(ALICE_ID), '777'] }),
  });
  const bob = tg.user(222);
  tg.dm(bob, 'hi');
  await tg.nextCall('sendMessage', (call) => Number(call.params.chat_id) === 222);
  const [code] = Object.keys(readAccess().pending);
  tg.dm(bob, '/status');
  tg.dm(tg.user(777), '/status');
  await barrier();
  assert.deepEqual(sentTexts(tg, 222).slice(1), [
    `Pending pairing — run in Claude Code:\n\n/telegram:access pair ${code}`,
  ]);
  assert.equal(readAccess().pending[code!]!.replies, 1);
  assert.deepEqual(sentTexts(tg, 777), ['Paired as 777.']);
});

test('commands are silent in groups, and for strangers under allowlist', async (t) => {
  const group = { [String(GROUP_ID)]: { requireMention: false, allowFrom: [] } };
  const { host, tg, alice, barrier } = await startTelegram(t, {
    access: accessJson({ dmPolicy: 'allowlist', groups: group }),
  });
  tg.post(tg.group(GROUP_ID), alice, '/status');
  tg.post(tg.group(GROUP_ID), alice, '/start@claude_test_bot');
  const stranger = tg.user(222);
  for (const command of ['/start', '/help', '/status']) tg.dm(stranger, command);
  await barrier();
  assert.deepEqual(sentTexts(tg, GROUP_ID), []);
  assert.deepEqual(sentTexts(tg, 222), []);
  assert.deepEqual(chatEvents(host), []);
});
