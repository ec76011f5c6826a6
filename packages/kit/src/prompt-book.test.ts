import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { AccessStore } from './access.js';
import type { Behavior, PermissionRequest } from './contract.js';
import { type PressAnswer, PromptBook, type PromptButton, type PromptMessage, type PromptPress } from './prompt-book.js';

const REQUEST: PermissionRequest = { request_id: 'abcde', tool_name: 'Bash', description: 'list files', input_preview: '{"command":"ls"}' };

/** A platform that records what it was asked to do, and a book over an access.json allowlisting `allowFrom`. */
function setup(t: TestContext, allowFrom = ['alice', 'bob'], unreachable: string[] = []) {
  const stateDir = mkdtempSync(join(tmpdir(), 'openchannels-prompts-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  writeFileSync(join(stateDir, 'access.json'), JSON.stringify({ dmPolicy: 'allowlist', allowFrom }));
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const sent: Array<{ userId: string; text: string; buttons: PromptButton[] }> = [];
  const edits: Array<{ message: PromptMessage; text: string; buttons: PromptButton[] }> = [];
  const access = new AccessStore({ name: 'test', stateDir, defaultDmPolicy: 'pairing', log, env: {} });
  const book = new PromptBook(
    {
      name: 'Test',
      maxText: 4096,
      send: async (userId, text, buttons) => {
        if (unreachable.includes(userId)) throw new Error('chat not found');
        sent.push({ userId, text, buttons });
        return { chatId: `dm-${userId}`, messageId: String(sent.length) };
      },
      edit: async (message, text, buttons) => {
        edits.push({ message, text, buttons });
      },
    },
    access,
    log,
  );
  const verdicts: Array<[string, Behavior]> = [];
  const verdict = async (id: string, behavior: Behavior) => {
    verdicts.push([id, behavior]);
  };
  return { book, sent, edits, logs, verdicts, verdict };
}

/** A press on the copy shown to `userId`, recording how it was answered. */
function pressBy(userId: string, data: string, text = '🔐 Permission: Bash', failUpdate = false) {
  const answers: string[] = [];
  const press: PromptPress = { data, senderId: userId, isDirect: true, message: { chatId: `dm-${userId}`, messageId: userId === 'alice' ? '1' : '2', text } };
  const answer: PressAnswer = {
    ignore: async () => void answers.push('ignored'),
    notice: async (note) => void answers.push(`notice: ${note}`),
    update: async (newText, buttons, outcome) => {
      if (failUpdate) throw new Error('interaction expired');
      answers.push(`update: ${newText} [${buttons.map((b) => b.label).join(', ')}]${outcome ? ` (${outcome})` : ''}`);
    },
  };
  return { press, answer, answers };
}

test('a request is shown to every allowlisted user with See more, Allow and Deny', async (t) => {
  const { book, sent } = setup(t);
  await book.show(REQUEST, 'api');
  assert.deepEqual(sent.map((s) => [s.userId, s.text]), [
    ['alice', '🔐 Permission: Bash (session api)'],
    ['bob', '🔐 Permission: Bash (session api)'],
  ]);
  assert.deepEqual(sent[0]!.buttons, [
    { action: 'more', data: 'perm:more:abcde', label: 'See more' },
    { action: 'allow', data: 'perm:allow:abcde', label: 'Allow', emoji: '✅' },
    { action: 'deny', data: 'perm:deny:abcde', label: 'Deny', emoji: '❌' },
  ]);
});

test('a user who cannot be reached is logged, the others still get it; nobody to ask is logged too', async (t) => {
  const { book, sent, logs } = setup(t, ['alice', 'ghost'], ['ghost']);
  await book.show(REQUEST);
  assert.deepEqual(sent.map((s) => s.userId), ['alice']);
  assert.deepEqual(logs, ['permission_request send to ghost failed: chat not found']);
  const empty = setup(t, []);
  await empty.book.show(REQUEST);
  assert.equal(empty.logs[0], 'permission request abcde not shown on Test: nobody is allowlisted; answer it in the terminal');
});

test('See more shows the details with Allow and Deny only; after the verdict the details are gone', async (t) => {
  const { book, verdict } = setup(t);
  await book.show(REQUEST);
  const more = pressBy('alice', 'perm:more:abcde');
  await book.press(more.press, more.answer, verdict);
  assert.deepEqual(more.answers, [
    'update: 🔐 Permission: Bash\n\ntool_name: Bash\ndescription: list files\ninput_preview:\n{\n  "command": "ls"\n} [Allow, Deny]',
  ]);
  await book.settle('abcde', 'allow');
  const late = pressBy('alice', 'perm:more:abcde');
  await book.press(late.press, late.answer, verdict);
  assert.deepEqual(late.answers, ['notice: Details no longer available.']);
});

test('Allow passes the verdict on, marks the pressed copy and every other copy, once', async (t) => {
  const { book, edits, verdicts, verdict } = setup(t);
  await book.show(REQUEST);
  const allow = pressBy('alice', 'perm:allow:abcde');
  await book.press(allow.press, allow.answer, verdict);
  assert.deepEqual(verdicts, [['abcde', 'allow']]);
  assert.deepEqual(allow.answers, ['update: 🔐 Permission: Bash\n\n✅ Allowed [] (✅ Allowed)']);
  assert.deepEqual(edits, [{ message: { chatId: 'dm-bob', messageId: '2' }, text: '🔐 Permission: Bash\n\n✅ Allowed', buttons: [] }]);
});

test('a typed verdict settles every copy, each keeping the text it showed (expanded or not)', async (t) => {
  const { book, edits, verdict } = setup(t);
  await book.show(REQUEST);
  const more = pressBy('bob', 'perm:more:abcde');
  await book.press(more.press, more.answer, verdict);
  await book.settle('abcde', 'deny');
  assert.deepEqual(edits.map((e) => [e.message.chatId, e.text.endsWith('\n\n❌ Denied'), e.text.includes('tool_name: Bash')]), [
    ['dm-alice', true, false],
    ['dm-bob', true, true],
  ]);
  await book.settle('abcde', 'deny');
  assert.equal(edits.length, 2, 'a settled request is not settled again');
});

test('only allowlisted users in their DM may answer; buttons that are not prompts are ignored', async (t) => {
  const { book, verdicts, verdict } = setup(t);
  await book.show(REQUEST);
  const mallory = pressBy('mallory', 'perm:allow:abcde');
  await book.press(mallory.press, mallory.answer, verdict);
  const inGroup = pressBy('alice', 'perm:allow:abcde');
  await book.press({ ...inGroup.press, isDirect: false }, inGroup.answer, verdict);
  const foreign = pressBy('alice', 'vote:yes');
  await book.press(foreign.press, foreign.answer, verdict);
  assert.deepEqual([mallory.answers, inGroup.answers, foreign.answers], [['notice: Not authorized.'], ['notice: Not authorized.'], ['ignored']]);
  assert.deepEqual(verdicts, []);
});

test('when the pressed copy cannot be rewritten, the verdict still counts and the other copies are still marked', async (t) => {
  const { book, edits, logs, verdicts, verdict } = setup(t);
  await book.show(REQUEST);
  const allow = pressBy('alice', 'perm:allow:abcde', undefined, true);
  await book.press(allow.press, allow.answer, verdict);
  assert.deepEqual(verdicts, [['abcde', 'allow']]);
  assert.deepEqual(edits.map((e) => e.message.chatId), ['dm-alice', 'dm-bob']);
  assert.match(logs[0]!, /could not mark the pressed permission prompt abcde as answered: interaction expired/);
});
