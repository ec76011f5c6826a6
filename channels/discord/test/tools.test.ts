/** The agent's tools against the fake: what the person on Discord sees, and the texts the agent gets back. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempStateDir } from '@openchannels/testkit';
import { accessJson, startDiscord, startInGuild } from './helpers.js';

test('reply chunks at 2000 characters, quotes the first chunk only, and attaches files to the first chunk', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  const asked = run.dc.dm(run.alice, 'send me the report');
  const dir = tempStateDir('discord-files-');
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'report.txt');
  writeFileSync(file, 'numbers');
  const text = 'a'.repeat(2000) + 'b'.repeat(10);
  const result = await run.host.tool('reply', { chat_id: run.aliceDm.id, text, reply_to: asked.id, files: [file] });
  assert.equal(result.isError, false, result.text);
  const posts = run.dc.callsTo('POST /channels/:id/messages');
  assert.equal(posts.length, 2);
  assert.match(result.text, /^sent 2 parts \(ids: \d+, \d+\)$/);
  assert.equal(posts[0]!.body.content, 'a'.repeat(2000));
  assert.deepEqual(posts[0]!.files.map((f) => f.name), ['report.txt']);
  assert.deepEqual(posts[0]!.body.message_reference, { message_id: asked.id, fail_if_not_exists: false });
  assert.equal(posts[1]!.body.content, 'b'.repeat(10));
  assert.equal(posts[1]!.files.length, 0);
  assert.equal(posts[1]!.body.message_reference, undefined);
});

test('reply refuses chats outside the gate, state files, more than 10 files and files over 25 MB', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  const stranger = run.dc.dmChannel(run.dc.user('200000000000000999', 'mallory'));
  const refused = await run.host.tool('reply', { chat_id: stranger.id, text: 'hi' });
  assert.deepEqual(refused, { isError: true, text: `reply failed: chat ${stranger.id} is not allowlisted — add via /discord:access` });
  const unknown = await run.host.tool('reply', { chat_id: '123456789012', text: 'hi' });
  assert.equal(unknown.text, 'reply failed: channel 123456789012 not found or not text-based');
  const secret = await run.host.tool('reply', { chat_id: run.aliceDm.id, text: 'x', files: [join(run.stateDir, 'access.json')] });
  assert.match(secret.text, /^reply failed: refusing to send channel state/);
  const dir = tempStateDir('discord-files-');
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = Array.from({ length: 11 }, (_, i) => {
    const path = join(dir, `f${i}.txt`);
    writeFileSync(path, 'x');
    return path;
  });
  const tooMany = await run.host.tool('reply', { chat_id: run.aliceDm.id, text: 'x', files });
  assert.deepEqual(tooMany, { isError: true, text: 'reply failed: Discord allows max 10 attachments per message' });
  const big = join(dir, 'big.bin');
  writeFileSync(big, Buffer.alloc(26 * 1024 * 1024));
  const tooBig = await run.host.tool('reply', { chat_id: run.aliceDm.id, text: 'x', files: [big] });
  assert.equal(tooBig.text, `reply failed: file too large: ${big} (26.0MB, max 25MB)`);
  assert.equal(run.dc.sentTexts(run.aliceDm).length, 0, 'nothing was sent');
});

test('react, edit_message, fetch_messages and download_attachment', async (t) => {
  const run = await startDiscord(t, { access: accessJson() });
  await run.barrier();
  const { dc, host, aliceDm } = run;
  const photo = dc.dm(run.alice, 'line one\nline two', {
    attachments: [{ filename: 'cat.png', data: Buffer.from('meow'), content_type: 'image/png' }],
  });
  await host.nextEvent((e) => e.meta?.message_id === photo.id);
  assert.deepEqual(await host.tool('react', { chat_id: aliceDm.id, message_id: photo.id, emoji: '👍' }), { isError: false, text: 'reacted' });
  const reaction = await dc.nextCall('PUT /channels/:id/messages/:id/reactions/:emoji/@me', (c) => c.body.emoji === '👍');
  assert.ok(reaction.path.includes(photo.id));
  const sent = await host.tool('reply', { chat_id: aliceDm.id, text: 'working…' });
  const id = /id: (\d+)/.exec(sent.text)![1]!;
  assert.deepEqual(await host.tool('edit_message', { chat_id: aliceDm.id, message_id: id, text: 'done' }), { isError: false, text: `edited (id: ${id})` });
  assert.equal(dc.sentTexts(aliceDm).at(-1), 'done');
  const history = await host.tool('fetch_messages', { channel: aliceDm.id, limit: 3 });
  const rows = history.text.split('\n');
  assert.equal(rows.length, 3);
  assert.match(rows[1]!, new RegExp(`^\\[${photo.timestamp.replace(/[.]/g, '\\.')}\\] alice: line one ⏎ line two  \\(id: ${photo.id} \\+1att\\)$`));
  assert.match(rows[2]!, new RegExp(`^\\[.+\\] me: done  \\(id: ${id}\\)$`));
  const download = await host.tool('download_attachment', { chat_id: aliceDm.id, message_id: photo.id });
  const match = /^downloaded 1 attachment\(s\):\n {2}(\S+)  \(cat\.png, image\/png, 0KB\)$/.exec(download.text);
  assert.ok(match, download.text);
  assert.ok(match[1]!.startsWith(join(run.stateDir, 'inbox')) && match[1]!.endsWith('.png'));
  assert.equal(readFileSync(match[1]!, 'utf8'), 'meow');
  const none = await host.tool('download_attachment', { chat_id: aliceDm.id, message_id: id });
  assert.deepEqual(none, { isError: false, text: 'message has no attachments' });
  const empty = dc.guildChannel('empty');
  run.writeAccess(accessJson({ groups: { [empty.id]: { requireMention: true, allowFrom: [] } } }));
  assert.equal((await host.tool('fetch_messages', { channel: empty.id })).text, '(no messages)');
});

test('a reply may be files alone; with neither text nor files nothing is sent', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  const dir = tempStateDir('discord-files-');
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'chart.png');
  writeFileSync(file, 'png bytes');
  const result = await run.host.tool('reply', { chat_id: run.aliceDm.id, text: '', files: [file] });
  assert.match(result.text, /^sent \(id: \d+\)$/);
  const [post] = run.dc.callsTo('POST /channels/:id/messages');
  assert.equal(post!.body.content, '');
  assert.deepEqual(post!.files.map((f) => f.name), ['chart.png']);
  const empty = await run.host.tool('reply', { chat_id: run.aliceDm.id, text: '' });
  assert.deepEqual(empty, { isError: true, text: 'reply failed: nothing to send: text is empty and there are no files' });
  assert.equal(run.dc.callsTo('POST /channels/:id/messages').length, 1);
});

test('create_thread starts a thread from a message or on its own; the agent replies there and hears it', async (t) => {
  const run = await startInGuild(t, { requireMention: false });
  const { general, bob } = run;
  await run.barrier();
  const { dc, host } = run;
  const asked = dc.post(general, bob, 'can you look into the flaky deploy?');
  await host.nextEvent((e) => e.content.startsWith('can you look'));
  const fromMessage = await host.tool('create_thread', { chat_id: general.id, name: 'flaky deploy', message_id: asked.id });
  assert.equal(fromMessage.text, `created thread "flaky deploy" (chat_id: ${asked.id})`);
  const thread = dc.channels.get(asked.id)!;
  assert.equal(thread.parent_id, general.id);
  assert.equal((await host.tool('reply', { chat_id: thread.id, text: 'on it' })).isError, false);
  assert.deepEqual(dc.sentTexts(thread), ['on it']);
  dc.post(thread, bob, 'thanks, logs attached soon');
  const inThread = await host.nextEvent((e) => e.content.startsWith('thanks'));
  assert.equal(inThread.meta?.chat_id, thread.id);
  const standalone = await host.tool('create_thread', { chat_id: general.id, name: 'release notes' });
  assert.match(standalone.text, /^created thread "release notes" \(chat_id: \d+\)$/);
});

test('create_thread refuses DMs, threads and channels outside the gate, and sends nothing', async (t) => {
  const run = await startInGuild(t, { requireMention: true });
  const { general, random } = run;
  await run.barrier();
  const { dc, host } = run;
  const thread = dc.thread(general, 'existing');
  assert.deepEqual(await host.tool('create_thread', { chat_id: run.aliceDm.id, name: 'x' }), {
    isError: true,
    text: `create_thread failed: threads start in a server channel; ${run.aliceDm.id} is a DM`,
  });
  assert.deepEqual(await host.tool('create_thread', { chat_id: thread.id, name: 'x' }), {
    isError: true,
    text: `create_thread failed: threads start in a server channel; ${thread.id} is a thread`,
  });
  assert.deepEqual(await host.tool('create_thread', { chat_id: random.id, name: 'x' }), {
    isError: true,
    text: `create_thread failed: chat ${random.id} is not allowlisted — add via /discord:access`,
  });
  const tooLong = await host.tool('create_thread', { chat_id: general.id, name: 'x'.repeat(101) });
  assert.equal(tooLong.isError, true);
  assert.equal(dc.callsTo('POST /channels/:id/threads').length, 0);
});
