/** Permission prompts on Telegram, and who may answer them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiCall, FakeTelegram, TgMessage } from '@openchannels/testkit';
import { ALICE_ID, GROUP_ID, accessJson, chatEvents, startTelegram } from './helpers.js';

const BOB_ID = 222;
const withBob = (extra = {}) => accessJson({ allowFrom: [String(ALICE_ID), String(BOB_ID)], ...extra });

function buttons(message: TgMessage | undefined): string[] {
  return (message?.reply_markup?.inline_keyboard ?? []).flat().map((b) => `${b.text}=${b.callback_data}`);
}

async function promptTo(tg: FakeTelegram, chatId: number): Promise<TgMessage> {
  const call: ApiCall = await tg.findCall(
    'sendMessage',
    (c) => Number(c.params.chat_id) === chatId && c.params.reply_markup !== undefined,
  );
  return call.result as TgMessage;
}

test('a permission request goes to every allowlisted DM with See more / Allow / Deny, and to no group', async (t) => {
  const { host, tg } = await startTelegram(t, {
    access: withBob({ groups: { [String(GROUP_ID)]: { requireMention: false, allowFrom: [] } } }),
  });
  tg.chatWith(tg.user(BOB_ID, 'bob'));
  tg.group(GROUP_ID);
  const request = await host.requestPermission('Bash', 'list files', { command: 'ls' });
  const id = request.request_id;
  for (const chatId of [ALICE_ID, BOB_ID]) {
    const prompt = await promptTo(tg, chatId);
    assert.equal(prompt.text, '🔐 Permission: Bash');
    assert.deepEqual(buttons(prompt), [
      `See more=perm:more:${id}`,
      `✅ Allow=perm:allow:${id}`,
      `❌ Deny=perm:deny:${id}`,
    ]);
  }
  assert.equal(tg.callsTo('sendMessage').filter((c) => Number(c.params.chat_id) === GROUP_ID).length, 0);
});

test('Allow from an allowlisted user sends the verdict and marks every copy of the prompt answered', async (t) => {
  const { host, tg, alice } = await startTelegram(t, { access: withBob() });
  tg.chatWith(tg.user(BOB_ID, 'bob'));
  const request = await host.requestPermission('Write', 'write a file', { path: '/tmp/x' });
  const prompt = await promptTo(tg, ALICE_ID);
  const bobsPrompt = await promptTo(tg, BOB_ID);
  const press = tg.press(alice, prompt, `perm:allow:${request.request_id}`);
  assert.deepEqual(await host.nextVerdict(), { request_id: request.request_id, behavior: 'allow' });
  const answer = await tg.nextCall('answerCallbackQuery', (c) => c.params.callback_query_id === press.id);
  assert.equal(answer.params.text, '✅ Allowed');
  for (const chatId of [ALICE_ID, BOB_ID])
    await tg.findCall('editMessageText', (c) => Number(c.params.chat_id) === chatId);
  for (const [chatId, message] of [
    [ALICE_ID, prompt],
    [BOB_ID, bobsPrompt],
  ] as const) {
    const now = tg.message(chatId, message.message_id)!;
    assert.equal(now.text, '🔐 Permission: Write\n\n✅ Allowed');
    assert.deepEqual(buttons(now), [], 'no buttons left to press');
  }
});

test('Deny answers deny', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const request = await host.requestPermission();
  const prompt = await promptTo(tg, ALICE_ID);
  tg.press(alice, prompt, `perm:deny:${request.request_id}`);
  assert.equal((await host.nextVerdict()).behavior, 'deny');
  assert.equal((await tg.nextCall('answerCallbackQuery')).params.text, '❌ Denied');
});

test('a button pressed by someone not allowlisted does nothing but say Not authorized.', async (t) => {
  const { host, tg } = await startTelegram(t);
  const request = await host.requestPermission();
  const prompt = await promptTo(tg, ALICE_ID);
  // A forwarded prompt, pressed by a stranger.
  tg.press(tg.user(666, 'mallory'), prompt, `perm:allow:${request.request_id}`);
  assert.equal((await tg.nextCall('answerCallbackQuery')).params.text, 'Not authorized.');
  await tg.allConfirmed();
  await host.verdicts.settle(200);
  assert.deepEqual(host.verdicts.received, []);
  assert.deepEqual(buttons(tg.message(ALICE_ID, prompt.message_id)).length, 3, 'the prompt is untouched');
});

test('See more shows the details with Allow/Deny; after a verdict the details are gone', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const request = await host.requestPermission('Bash', 'delete build output', { command: 'rm -rf dist', timeout: 5 });
  const id = request.request_id;
  const prompt = await promptTo(tg, ALICE_ID);
  tg.press(alice, prompt, `perm:more:${id}`);
  await tg.nextCall('editMessageText');
  const expanded = tg.message(ALICE_ID, prompt.message_id)!;
  assert.equal(
    expanded.text,
    '🔐 Permission: Bash\n\ntool_name: Bash\ndescription: delete build output\ninput_preview:\n{\n  "command": "rm -rf dist",\n  "timeout": 5\n}',
  );
  assert.deepEqual(buttons(expanded), [`✅ Allow=perm:allow:${id}`, `❌ Deny=perm:deny:${id}`]);
  tg.press(alice, expanded, `perm:allow:${id}`);
  await host.nextVerdict();
  await tg.nextCall('editMessageText');
  assert.match(tg.message(ALICE_ID, prompt.message_id)!.text!, /"timeout": 5\n}\n\n✅ Allowed$/);
  tg.press(alice, prompt, `perm:more:${id}`);
  const late = await tg.nextCall(
    'answerCallbackQuery',
    (c) => c.params.text !== '✅ Allowed' && c.params.text !== undefined,
  );
  assert.equal(late.params.text, 'Details no longer available.');
});

test('buttons that are not permission buttons are answered silently', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const message = tg.dm(alice, 'hi');
  await host.nextEvent();
  tg.press(alice, message, 'something:else');
  const answer = await tg.nextCall('answerCallbackQuery');
  assert.equal(answer.params.text, undefined);
  assert.equal(answer.error, undefined);
});

test('"  YES abcde " typed by an allowlisted user in their DM is a verdict, acknowledged with 👍, never chat', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const request = await host.requestPermission();
  const prompt = await promptTo(tg, ALICE_ID);
  const typed = tg.dm(alice, `  YES ${request.request_id.toUpperCase()} `);
  assert.deepEqual(await host.nextVerdict(), { request_id: request.request_id, behavior: 'allow' });
  const reaction = await tg.nextCall('setMessageReaction');
  assert.equal(Number(reaction.params.message_id), typed.message_id);
  // Telegram's reaction list has no ✅; the reference's ✅ never showed.
  assert.deepEqual(reaction.params.reaction, [{ type: 'emoji', emoji: '👍' }]);
  assert.equal(reaction.error, undefined);
  await tg.nextCall('editMessageText');
  assert.equal(tg.message(ALICE_ID, prompt.message_id)!.text, '🔐 Permission: Bash\n\n✅ Allowed');
  tg.dm(alice, 'n qwert');
  assert.deepEqual(await host.nextVerdict(), { request_id: 'qwert', behavior: 'deny' });
  assert.deepEqual((await tg.nextCall('setMessageReaction')).params.reaction, [{ type: 'emoji', emoji: '👎' }]);
  tg.dm(alice, 'after the verdicts');
  assert.equal((await host.nextEvent()).content, 'after the verdicts');
  assert.deepEqual(
    chatEvents(host).map((e) => e.content),
    ['after the verdicts'],
  );
});

test('text that only looks like a verdict is ordinary chat', async (t) => {
  const { host, tg, alice } = await startTelegram(t);
  const texts = ['yes abcde please', 'yes', 'yes abcdl', 'yes abcd', 'yesabcde'];
  for (const text of texts) tg.dm(alice, text);
  for (const text of texts) assert.equal((await host.nextEvent()).content, text);
  assert.deepEqual(host.verdicts.received, []);
});

test("a group member's `yes <id>` is chat, never a verdict, even from an allowlisted user", async (t) => {
  const groups = { [String(GROUP_ID)]: { requireMention: false, allowFrom: [] } };
  const { host, tg, alice } = await startTelegram(t, { access: accessJson({ groups }) });
  const request = await host.requestPermission();
  const group = tg.group(GROUP_ID);
  tg.post(group, tg.user(444, 'dave'), `yes ${request.request_id}`);
  tg.post(group, alice, `y ${request.request_id}`);
  assert.equal((await host.nextEvent()).content, `yes ${request.request_id}`);
  assert.equal((await host.nextEvent()).content, `y ${request.request_id}`);
  assert.deepEqual(host.verdicts.received, []);
  assert.deepEqual(tg.callsTo('setMessageReaction'), []);
});

test('a prompt that cannot be delivered is logged; under disabled nobody is prompted', async (t) => {
  const { host, tg, writeAccess } = await startTelegram(t, {
    access: accessJson({ allowFrom: [String(ALICE_ID), '999'] }),
  });
  await host.requestPermission();
  await promptTo(tg, ALICE_ID);
  await host.stderrMatch(/permission_request send to 999 failed: Bad Request: chat not found/);
  writeAccess(accessJson({ dmPolicy: 'disabled' }));
  const before = tg.callsTo('sendMessage').length;
  await host.requestPermission();
  await host.stderrMatch(/permission request [a-km-z]{5} not shown on Telegram: dmPolicy is "disabled"; answer it in the terminal/);
  await tg.calls.settle(300);
  assert.equal(tg.callsTo('sendMessage').length, before);
});
