import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { AccessStore, type InboundMessage } from './access.js';
import { ChatInbound, type ChatMessageSteps } from './chat-inbound.js';
import type { Behavior } from './contract.js';
import { PromptBook } from './prompt-book.js';

/** A ChatInbound over an access.json, with every step it takes recorded in order. */
function setup(t: TestContext, access: object) {
  const stateDir = mkdtempSync(join(tmpdir(), 'openchannels-chat-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  writeFileSync(join(stateDir, 'access.json'), JSON.stringify(access));
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const store = new AccessStore({ name: 'test', stateDir, defaultDmPolicy: 'pairing', log, env: {} });
  const edits: string[] = [];
  const prompts = new PromptBook(
    { name: 'Test', maxText: 4096, send: async (userId) => ({ chatId: userId, messageId: '1' }), edit: async (_m, text) => void edits.push(text) },
    store,
    log,
  );
  const verdicts: Array<[string, Behavior]> = [];
  const chat = new ChatInbound({ access: store, prompts, log, verdict: async (id, behavior) => void verdicts.push([id, behavior]) });
  const admit = async (message: InboundMessage, failing: Partial<Record<keyof ChatMessageSteps, boolean>> = {}) => {
    const steps: string[] = [];
    const step = (name: keyof ChatMessageSteps, what: string) => async () => {
      steps.push(what);
      if (failing[name]) throw new Error(`${name} refused`);
    };
    await chat.admit(message, {
      replyWithPairing: async (text) => void (await step('replyWithPairing', `pair: ${text.split('\n').at(-1)}`)()),
      acknowledgeVerdict: async (behavior) => void (await step('acknowledgeVerdict', `ack verdict ${behavior}`)()),
      showTyping: () => void steps.push('typing'),
      react: async (emoji) => void (await step('react', `react ${emoji}`)()),
      deliver: async () => void steps.push('deliver'),
    });
    return steps;
  };
  return { admit, logs, verdicts, prompts, edits };
}

const dm = (senderId: string, text: string): InboundMessage => ({ senderId, chatId: `dm-${senderId}`, isDirect: true, mentioned: false, text });

test('an allowlisted message shows typing and the ack reaction, then is delivered', async (t) => {
  const { admit } = setup(t, { dmPolicy: 'pairing', allowFrom: ['1'], ackReaction: '👀' });
  assert.deepEqual(await admit(dm('1', 'hello')), ['typing', 'react 👀', 'deliver']);
});

test('a stranger gets a pairing code and nothing is delivered; a dropped message gets nothing at all', async (t) => {
  const { admit } = setup(t, { dmPolicy: 'pairing', allowFrom: [] });
  const [reply, ...rest] = await admit(dm('2', 'hello'));
  assert.match(reply!, /^pair: \/test:access pair [0-9a-f]{6}$/);
  assert.deepEqual(rest, []);
  const closed = setup(t, { dmPolicy: 'allowlist', allowFrom: [] });
  assert.deepEqual(await closed.admit(dm('2', 'hello')), []);
});

test('a typed answer from an allowlisted DM is a verdict, acknowledged and settled, never delivered', async (t) => {
  const { admit, verdicts, prompts, edits } = setup(t, { dmPolicy: 'pairing', allowFrom: ['1'] });
  await prompts.show({ request_id: 'abcde', tool_name: 'Bash', description: 'ls', input_preview: '{}' });
  assert.deepEqual(await admit(dm('1', ' YES abcde ')), ['ack verdict allow']);
  assert.deepEqual(verdicts, [['abcde', 'allow']]);
  assert.deepEqual(edits, ['🔐 Permission: Bash\n\n✅ Allowed']);
});

test('a failing platform step is logged, and a refused ack emoji only once', async (t) => {
  const { admit, logs } = setup(t, { dmPolicy: 'pairing', allowFrom: ['1'], ackReaction: '🦄' });
  assert.deepEqual(await admit(dm('1', 'one'), { react: true }), ['typing', 'react 🦄', 'deliver']);
  await admit(dm('1', 'two'), { react: true });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(logs, ['ackReaction 🦄 failed: react refused']);
  const strangers = setup(t, { dmPolicy: 'pairing', allowFrom: [] });
  await strangers.admit(dm('2', 'hi'), { replyWithPairing: true });
  assert.deepEqual(strangers.logs, ['failed to send pairing code: replyWithPairing refused']);
});
