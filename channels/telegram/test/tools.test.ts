/** The agent's tools, as the agent calls them and as the Telegram user sees the result. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempStateDir } from '@openchannels/testkit';
import { ALICE_ID, GROUP_ID, accessJson, startTelegram } from './helpers.js';

const ALICE = String(ALICE_ID);

function idsOf(result: string): number[] {
  return /ids?: ([\d, ]+)\)$/.exec(result)![1]!.split(', ').map(Number);
}

test('reply sends one message and says its id; a long text goes in 4096-character parts', async (t) => {
  const { host, tg } = await startTelegram(t);
  const one = await host.tool('reply', { chat_id: ALICE, text: 'short answer' });
  assert.equal(one.isError, false);
  const [id] = idsOf(one.text);
  assert.equal(one.text, `sent (id: ${id})`);
  assert.equal(tg.message(ALICE_ID, id!)?.text, 'short answer');
  const long = 'x'.repeat(4096 * 2 + 10);
  const many = await host.tool('reply', { chat_id: ALICE, text: long });
  const ids = idsOf(many.text);
  assert.equal(many.text, `sent 3 parts (ids: ${ids.join(', ')})`);
  assert.deepEqual(
    ids.map((i) => tg.message(ALICE_ID, i)?.text?.length),
    [4096, 4096, 10],
  );
  assert.equal(
    tg.callsTo('sendMessage').some((call) => 'parse_mode' in call.params),
    false,
    'plain text by default',
  );
});

test('reply, react and edit_message refuse a chat that is not allowlisted, and send nothing', async (t) => {
  const { host, tg } = await startTelegram(t);
  tg.chatWith(tg.user(999));
  for (const [tool, args] of [
    ['reply', { chat_id: '999', text: 'hi' }],
    ['react', { chat_id: '999', message_id: '1', emoji: '👍' }],
    ['edit_message', { chat_id: '999', message_id: '1', text: 'x' }],
  ] as const) {
    const outcome = await host.tool(tool, args);
    assert.deepEqual(outcome, {
      text: `${tool} failed: chat 999 is not allowlisted — add via /telegram:access`,
      isError: true,
    });
  }
  assert.deepEqual(tg.callsTo('sendMessage'), []);
  assert.deepEqual(tg.callsTo('setMessageReaction'), []);
  assert.deepEqual(tg.callsTo('editMessageText'), []);
});

test('an admitted group can be answered', async (t) => {
  const { host, tg } = await startTelegram(t, {
    access: accessJson({ groups: { [String(GROUP_ID)]: { requireMention: true, allowFrom: [] } } }),
  });
  tg.group(GROUP_ID);
  const outcome = await host.tool('reply', { chat_id: String(GROUP_ID), text: 'hello group' });
  assert.match(outcome.text, /^sent \(id: \d+\)$/);
});

test('files go after the text, each its own message: images as photos, the rest as documents', async (t) => {
  const { host, tg } = await startTelegram(t);
  const dir = tempStateDir('telegram-files-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = {
    'chart.PNG': 'png bytes',
    'photo.jpeg': 'jpeg bytes',
    'notes.pdf': 'pdf bytes',
    'anim.webp': 'webp',
    'data.csv': 'a,b',
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const outcome = await host.tool('reply', {
    chat_id: ALICE,
    text: 'here you go',
    files: Object.keys(files).map((name) => join(dir, name)),
  });
  assert.match(outcome.text, /^sent 6 parts \(ids: /);
  const order = tg.calls.received
    .filter((c) => c.method.startsWith('send') && c.method !== 'sendChatAction')
    .map((c) => c.method);
  assert.deepEqual(order, ['sendMessage', 'sendPhoto', 'sendPhoto', 'sendDocument', 'sendPhoto', 'sendDocument']);
  const uploads = [...tg.callsTo('sendPhoto'), ...tg.callsTo('sendDocument')].map((call) => {
    const file = call.files.photo ?? call.files.document!;
    assert.equal(call.params.caption, undefined, 'no caption');
    return [file.name, file.data.toString()];
  });
  assert.deepEqual(new Map(uploads as Array<[string, string]>), new Map(Object.entries(files)));
});

test('a file in the state directory is refused, except what is in the inbox', async (t) => {
  const { host, tg, stateDir } = await startTelegram(t, { dotEnv: () => 'SECRET=1\n' });
  for (const name of ['.env', 'access.json']) {
    const outcome = await host.tool('reply', { chat_id: ALICE, text: 'leak', files: [join(stateDir, name)] });
    assert.deepEqual(outcome, {
      text: `reply failed: refusing to send channel state: ${join(stateDir, name)}`,
      isError: true,
    });
  }
  assert.deepEqual(tg.callsTo('sendMessage'), []);
  mkdirSync(join(stateDir, 'inbox'), { recursive: true });
  writeFileSync(join(stateDir, 'inbox', 'received.txt'), 'sent back');
  const outcome = await host.tool('reply', {
    chat_id: ALICE,
    text: '',
    files: [join(stateDir, 'inbox', 'received.txt')],
  });
  assert.match(outcome.text, /^sent \(id: \d+\)$/, 'a reply of files only has no text message');
  assert.equal(tg.callsTo('sendDocument')[0]!.files.document!.data.toString(), 'sent back');
});

test('an oversize file fails the reply before any text is sent', async (t) => {
  const { host, tg } = await startTelegram(t);
  const dir = tempStateDir('telegram-files-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = join(dir, 'big.bin');
  writeFileSync(big, '');
  truncateSync(big, 50 * 1024 * 1024 + 1);
  const outcome = await host.tool('reply', { chat_id: ALICE, text: 'the text', files: [big] });
  assert.deepEqual(outcome, { text: `reply failed: file too large: ${big} (50.0MB, max 50MB)`, isError: true });
  const missing = await host.tool('reply', { chat_id: ALICE, text: 'the text', files: [join(dir, 'nope.txt')] });
  assert.equal(missing.text, `reply failed: no such file: ${join(dir, 'nope.txt')}`);
  assert.deepEqual(tg.callsTo('sendMessage'), []);
});

test('textChunkLimit is clamped to 1..4096, and chunkMode newline splits at paragraphs first', async (t) => {
  const { host, tg, writeAccess } = await startTelegram(t, { access: accessJson({ textChunkLimit: 10_000 }) });
  assert.match((await host.tool('reply', { chat_id: ALICE, text: 'y'.repeat(5000) })).text, /^sent 2 parts/);
  writeAccess(accessJson({ textChunkLimit: 0 }));
  const tiny = await host.tool('reply', { chat_id: ALICE, text: 'abc' });
  assert.deepEqual(
    idsOf(tiny.text).map((id) => tg.message(ALICE_ID, id)?.text),
    ['a', 'b', 'c'],
  );
  writeAccess(accessJson({ textChunkLimit: 40, chunkMode: 'newline' }));
  const text = 'First paragraph, long enough.\n\nSecond paragraph here.\nSecond line of it goes on.';
  const split = await host.tool('reply', { chat_id: ALICE, text });
  assert.deepEqual(
    idsOf(split.text).map((id) => tg.message(ALICE_ID, id)?.text),
    ['First paragraph, long enough.', 'Second paragraph here.', 'Second line of it goes on.'],
  );
});

test('reply_to quotes the first part by default, every part with replyToMode all, none with off', async (t) => {
  const { host, tg, alice, writeAccess } = await startTelegram(t, { access: accessJson({ textChunkLimit: 5 }) });
  const question = tg.dm(alice, 'a question');
  await host.nextEvent();
  const quoted = async () => {
    const outcome = await host.tool('reply', {
      chat_id: ALICE,
      text: 'aaaaabbbbb',
      reply_to: String(question.message_id),
    });
    return idsOf(outcome.text).map((id) => tg.message(ALICE_ID, id)?.reply_to_message?.message_id);
  };
  assert.deepEqual(await quoted(), [question.message_id, undefined]);
  writeAccess(accessJson({ textChunkLimit: 5, replyToMode: 'all' }));
  assert.deepEqual(await quoted(), [question.message_id, question.message_id]);
  writeAccess(accessJson({ textChunkLimit: 5, replyToMode: 'off' }));
  assert.deepEqual(await quoted(), [undefined, undefined]);
  const bad = await host.tool('reply', { chat_id: ALICE, text: 'x', reply_to: 'latest' });
  assert.equal(bad.text, 'reply failed: reply_to must be a message id (a whole number), got "latest"');
});

test('format markdownv2 sends with parse_mode MarkdownV2; an unescaped character fails with how to fix it', async (t) => {
  const { host, tg } = await startTelegram(t, { access: accessJson({ textChunkLimit: 10 }) });
  await host.tool('reply', { chat_id: ALICE, text: '*bold*', format: 'markdownv2' });
  assert.equal(tg.callsTo('sendMessage')[0]!.params.parse_mode, 'MarkdownV2');
  const failed = await host.tool('reply', { chat_id: ALICE, text: 'fine text here!', format: 'markdownv2' });
  assert.equal(failed.isError, true);
  assert.match(
    failed.text,
    /^reply failed: reply failed after 1 of 2 chunk\(s\) sent: Bad Request: can't parse entities: Character '!' is reserved .*escape each of _\*\[\]\(\)~`>#\+-=\|\{\}\.! with a backslash/,
  );
});

test('a send rate-limited by Telegram (429) is retried after the wait it asks for', async (t) => {
  const { host, tg } = await startTelegram(t);
  tg.fail('sendMessage', { status: 429, retryAfter: 1 });
  const startedAt = Date.now();
  const outcome = await host.tool('reply', { chat_id: ALICE, text: 'eventually' });
  assert.match(outcome.text, /^sent \(id: \d+\)$/);
  assert.ok(Date.now() - startedAt >= 950);
  assert.equal(tg.callsTo('sendMessage').length, 2);
});

test('react adds the reaction and says reacted; Telegram refusing an emoji is reported', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const message = tg.dm(alice, 'nice work');
  await host.nextEvent();
  const outcome = await host.tool('react', { chat_id: ALICE, message_id: String(message.message_id), emoji: '🔥' });
  assert.deepEqual(outcome, { text: 'reacted', isError: false });
  const call = tg
    .callsTo('setMessageReaction')
    .find((c) => c.error === undefined && Number(c.params.message_id) === message.message_id)!;
  assert.deepEqual(call.params.reaction, [{ type: 'emoji', emoji: '🔥' }]);
  const refused = await host.tool('react', { chat_id: ALICE, message_id: String(message.message_id), emoji: '✅' });
  assert.equal(refused.isError, true);
  assert.match(refused.text, /^react failed: Telegram does not allow ✅ as a reaction/);
});

test("edit_message changes the bot's message and says edited; others' messages cannot be edited", async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const sent = await host.tool('reply', { chat_id: ALICE, text: 'working on it…' });
  const [id] = idsOf(sent.text);
  const edited = await host.tool('edit_message', {
    chat_id: ALICE,
    message_id: String(id),
    text: 'done: 3 files changed',
  });
  assert.deepEqual(edited, { text: `edited (id: ${id})`, isError: false });
  assert.equal(tg.message(ALICE_ID, id!)?.text, 'done: 3 files changed');
  await host.tool('edit_message', { chat_id: ALICE, message_id: String(id), text: '*done*', format: 'markdownv2' });
  assert.equal(tg.callsTo('editMessageText').at(-1)!.params.parse_mode, 'MarkdownV2');
  const theirs = tg.dm(alice, 'mine');
  const refused = await host.tool('edit_message', { chat_id: ALICE, message_id: String(theirs.message_id), text: 'x' });
  assert.deepEqual(refused, { text: "edit_message failed: Bad Request: message can't be edited", isError: true });
});

test('download_attachment saves into the inbox as <ms>-<unique id>.<ext> with unsafe characters stripped', async (t) => {
  const { host, tg, stateDir } = await startTelegram(t);
  const voice = tg.addFile('ogg data', 'voice/file_7.o<g>g');
  voice.file_unique_id = 'AgAD../1 x';
  const path = (await host.tool('download_attachment', { file_id: voice.file_id })).text;
  assert.match(path, new RegExp(`^${join(stateDir, 'inbox')}/\\d+-AgAD1x\\.ogg$`));
  assert.equal(readFileSync(path, 'utf8'), 'ogg data');
  const plain = tg.addFile('bin', 'documents/noextension');
  assert.match((await host.tool('download_attachment', { file_id: plain.file_id })).text, /-AgAD2x\.bin$/);
  const expired = tg.addFile('gone', null);
  assert.deepEqual(await host.tool('download_attachment', { file_id: expired.file_id }), {
    text: 'download_attachment failed: Telegram returned no file_path — file may have expired',
    isError: true,
  });
  const unknown = await host.tool('download_attachment', { file_id: 'nonsense' });
  assert.equal(unknown.text, 'download_attachment failed: Bad Request: invalid file_id');
});
