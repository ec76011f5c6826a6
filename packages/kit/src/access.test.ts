import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type Access, AccessStore, type AccessStoreOptions, type InboundMessage, PAIRED_TEXT } from './access.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

interface Fixture {
  stateDir: string;
  logs: string[];
  /** The injected clock; tests move it forward. */
  clock: { now: number };
  store: AccessStore;
  /** Another AccessStore on the same directory, e.g. after a restart. */
  open(options?: Partial<AccessStoreOptions>): AccessStore;
  file: string;
  read(): Access;
  write(content: unknown): void;
}

/** A temporary state directory, optionally seeded with access.json, and a store on it. */
function setup(t: TestContext, seed?: unknown, options: Partial<AccessStoreOptions> = {}): Fixture {
  const stateDir = mkdtempSync(join(tmpdir(), 'openchannels-access-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const file = join(stateDir, 'access.json');
  const write = (content: unknown) =>
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  if (seed !== undefined) write(seed);
  const logs: string[] = [];
  const clock = { now: T0 };
  const open = (more: Partial<AccessStoreOptions> = {}) =>
    new AccessStore({
      name: 'telegram',
      stateDir,
      defaultDmPolicy: 'pairing',
      log: (message) => logs.push(message),
      env: {},
      now: () => clock.now,
      ...options,
      ...more,
    });
  return {
    stateDir,
    logs,
    clock,
    store: open(),
    open,
    file,
    read: () => JSON.parse(readFileSync(file, 'utf8')) as Access,
    write,
  };
}

function dm(senderId: string, extra: Partial<InboundMessage> = {}): InboundMessage {
  return { senderId, chatId: senderId, isDirect: true, mentioned: false, text: 'hello', ...extra };
}

function inGroup(senderId: string, groupKey: string, extra: Partial<InboundMessage> = {}): InboundMessage {
  return { senderId, chatId: groupKey, isDirect: false, mentioned: false, text: 'hello all', ...extra };
}

const pairingRequired = (code: string) => `Pairing required — run in Claude Code:\n\n/telegram:access pair ${code}`;
const stillPending = (code: string) => `Still pending — run in Claude Code:\n\n/telegram:access pair ${code}`;

function pairCode(store: AccessStore, message: InboundMessage): string {
  const result = store.gate(message);
  assert.equal(result.action, 'pair');
  return result.action === 'pair' ? result.code : '';
}

// --- loading (spec items 16-19) ---

test('a missing access.json gives the channel default policy and writes nothing', (t) => {
  const f = setup(t);
  assert.deepEqual(f.store.load(), { dmPolicy: 'pairing', allowFrom: [], groups: {}, pending: {} });
  const allowlistChannel = f.open({ defaultDmPolicy: 'allowlist' });
  assert.deepEqual(allowlistChannel.gate(dm('42')), { action: 'drop' });
  assert.equal(existsSync(f.file), false);
});

for (const [label, content] of [
  ['unparseable JSON', '{"dmPolicy": "allowlist",'],
  ['a JSON array', '["42"]'],
  ['allowFrom that is not a list', '{"dmPolicy": "allowlist", "allowFrom": "42"}'],
] as const) {
  test(`an access.json holding ${label} is moved aside and the defaults apply`, (t) => {
    const f = setup(t, content);
    f.clock.now = T0 + 123;
    const result = f.store.gate(dm('42'));
    // Defaults: pairing, so the stranger is offered a code rather than delivered.
    assert.equal(result.action, 'pair');
    const aside = join(f.stateDir, `access.json.corrupt-${T0 + 123}`);
    assert.equal(readFileSync(aside, 'utf8'), content);
    assert.ok(f.logs.some((line) => line.includes('moved aside')), f.logs.join('\n'));
  });
}

test('a corrupt access.json is not replaced until the next save', (t) => {
  const f = setup(t, 'not json');
  assert.deepEqual(f.store.load().allowFrom, []);
  assert.equal(existsSync(f.file), false);
  assert.equal(readdirSync(f.stateDir).filter((name) => name.startsWith('access.json.corrupt-')).length, 1);
});

test('a byte-order mark does not make access.json corrupt', (t) => {
  const f = setup(t, '\uFEFF{"dmPolicy": "allowlist", "allowFrom": ["42"]}');
  assert.equal(f.store.gate(dm('42')).action, 'deliver');
  assert.deepEqual(f.logs, []);
});

test('missing fields take their defaults and unknown keys vanish at the next save', (t) => {
  const f = setup(t, { allowFrom: ['1'], legacyThing: true, pending: {} });
  assert.deepEqual(f.store.load(), { dmPolicy: 'pairing', allowFrom: ['1'], groups: {}, pending: {} });
  pairCode(f.store, dm('42'));
  const saved = f.read() as unknown as Record<string, unknown>;
  assert.equal('legacyThing' in saved, false);
  assert.deepEqual(Object.keys(saved), ['dmPolicy', 'allowFrom', 'groups', 'pending']);
});

test('saves are pretty-printed with a trailing newline, mode 0600, with no .tmp left behind', (t) => {
  const f = setup(t);
  pairCode(f.store, dm('42'));
  const text = readFileSync(f.file, 'utf8');
  assert.equal(text, `${JSON.stringify(f.read(), null, 2)}\n`);
  assert.equal(statSync(f.file).mode & 0o777, 0o600);
  assert.equal(existsSync(`${f.file}.tmp`), false);
});

test('wrong-typed optional fields fall back to defaults with a log line; the rest of the file stands', (t) => {
  const f = setup(t, {
    dmPolicy: 'allowlist',
    allowFrom: ['1', 2],
    ackReaction: 5,
    replyToMode: 'sometimes',
    textChunkLimit: '100',
    chunkMode: 'newline',
    mentionPatterns: 'claude',
  });
  assert.deepEqual(f.store.load(), {
    dmPolicy: 'allowlist',
    allowFrom: ['1'],
    groups: {},
    pending: {},
    chunkMode: 'newline',
  });
  for (const field of ['allowFrom entry', 'ackReaction', 'replyToMode', 'textChunkLimit', 'mentionPatterns']) {
    assert.ok(f.logs.some((line) => line.includes(`ignoring ${field}`)), `no log line for ${field}`);
  }
  assert.equal(readdirSync(f.stateDir).some((name) => name.includes('corrupt')), false);
});

test('an unrecognised dmPolicy fails closed to allowlist', (t) => {
  const f = setup(t, { dmPolicy: 'open', allowFrom: ['1'] });
  assert.deepEqual(f.store.gate(dm('42')), { action: 'drop' });
  assert.equal(f.store.gate(dm('1')).action, 'deliver');
  assert.ok(f.logs.some((line) => line.includes('dmPolicy')));
});

test('a group whose allowFrom is not a list of ids is left out rather than opened to every member', (t) => {
  const f = setup(t, {
    groups: { g1: { requireMention: false, allowFrom: [12345] }, g2: { requireMention: 'no' }, g3: 'yes' },
  });
  assert.deepEqual(f.store.load().groups, { g2: { requireMention: true, allowFrom: [] } });
  assert.deepEqual(f.store.gate(inGroup('12345', 'g1')), { action: 'drop' });
});

test('pending entries without replies count as one reply; malformed ones are left out', (t) => {
  const f = setup(t, {
    pending: {
      abc123: { senderId: '42', chatId: '42', createdAt: T0, expiresAt: T0 + HOUR },
      def456: { senderId: 7, chatId: '7', createdAt: T0, expiresAt: T0 + HOUR, replies: 1 },
    },
  });
  assert.deepEqual(Object.keys(f.store.load().pending), ['abc123']);
  assert.deepEqual(f.store.gate(dm('42')), { action: 'pair', code: 'abc123', text: stillPending('abc123') });
  assert.deepEqual(f.store.gate(dm('42')), { action: 'drop' });
});

// --- direct messages (spec items 20-28) ---

test('an unknown sender gets a pairing code, and the message is not delivered', (t) => {
  const f = setup(t);
  const result = f.store.gate(dm('42', { chatId: 'dm-42' }));
  assert.equal(result.action, 'pair');
  assert.ok(result.action === 'pair');
  assert.match(result.code, /^[0-9a-f]{6}$/);
  assert.equal(result.text, pairingRequired(result.code));
  assert.deepEqual(f.read().pending, {
    [result.code]: { senderId: '42', chatId: 'dm-42', createdAt: T0, expiresAt: T0 + HOUR, replies: 1 },
  });
  assert.deepEqual(f.read().allowFrom, []);
});

test('the second message gets one reminder with the same code; later ones are dropped silently', (t) => {
  const f = setup(t);
  const code = pairCode(f.store, dm('42'));
  assert.deepEqual(f.store.gate(dm('42')), { action: 'pair', code, text: stillPending(code) });
  assert.equal(f.read().pending[code]!.replies, 2);
  assert.deepEqual(f.store.gate(dm('42')), { action: 'drop' });
  assert.deepEqual(f.store.gate(dm('42')), { action: 'drop' });
  assert.equal(f.read().pending[code]!.replies, 2);
});

test('with three codes pending a fourth stranger gets nothing and no entry', (t) => {
  const f = setup(t);
  for (const sender of ['1', '2', '3']) pairCode(f.store, dm(sender));
  assert.deepEqual(f.store.gate(dm('4')), { action: 'drop' });
  assert.equal(Object.keys(f.read().pending).length, 3);
  assert.equal(Object.values(f.read().pending).some((entry) => entry.senderId === '4'), false);
});

test('an expired code is pruned on the next message and the sender then gets a fresh code', (t) => {
  const f = setup(t, { allowFrom: ['9'] });
  const first = pairCode(f.store, dm('42'));
  f.store.gate(dm('42'));
  f.clock.now = T0 + HOUR; // expiresAt < now is required: at exactly expiresAt the code still holds
  assert.equal(f.store.gate(dm('9')).action, 'deliver');
  assert.ok(first in f.read().pending);
  f.clock.now = T0 + HOUR + 1;
  assert.equal(f.store.gate(dm('9')).action, 'deliver');
  assert.deepEqual(f.read().pending, {}, 'the prune is saved even when the message is delivered');
  const second = f.store.gate(dm('42'));
  assert.equal(second.action, 'pair');
  assert.ok(second.action === 'pair' && second.text === pairingRequired(second.code));
});

test('allowlist policy drops unknown DMs silently and writes nothing', (t) => {
  const f = setup(t, { dmPolicy: 'allowlist', allowFrom: ['1'] });
  const before = readFileSync(f.file, 'utf8');
  assert.deepEqual(f.store.gate(dm('42')), { action: 'drop' });
  assert.equal(readFileSync(f.file, 'utf8'), before);
});

test('disabled policy drops allowlisted DMs and configured groups alike', (t) => {
  const f = setup(t, {
    dmPolicy: 'disabled',
    allowFrom: ['1'],
    groups: { g: { requireMention: false, allowFrom: [] } },
  });
  assert.deepEqual(f.store.gate(dm('1')), { action: 'drop' });
  assert.deepEqual(f.store.gate(inGroup('1', 'g', { mentioned: true })), { action: 'drop' });
});

test('an allowlisted sender is delivered with the access state it was admitted under', (t) => {
  const f = setup(t, { allowFrom: ['1'], ackReaction: '👀' });
  const result = f.store.gate(dm('1'));
  assert.equal(result.action, 'deliver');
  assert.equal(result.action === 'deliver' && result.access.ackReaction, '👀');
  assert.equal(existsSync(`${f.file}.tmp`), false);
});

test('changes to access.json take effect on the next message without a restart', (t) => {
  const f = setup(t, { dmPolicy: 'allowlist', allowFrom: [] });
  assert.deepEqual(f.store.gate(dm('42')), { action: 'drop' });
  f.write({ dmPolicy: 'allowlist', allowFrom: ['42'] });
  assert.equal(f.store.gate(dm('42')).action, 'deliver');
});

// --- groups (spec items 34-40) ---

test('a message from an unconfigured group is dropped and never starts pairing', (t) => {
  const f = setup(t, { allowFrom: ['1'], groups: {} });
  assert.deepEqual(f.store.gate(inGroup('42', 'g', { mentioned: true })), { action: 'drop' });
  assert.deepEqual(f.store.gate(inGroup('1', 'constructor', { mentioned: true })), { action: 'drop' });
  assert.deepEqual(f.store.load().pending, {});
});

test('requireMention (the default) drops un-mentioned messages and delivers mentioned ones', (t) => {
  const f = setup(t, { groups: { g: { allowFrom: [] } } });
  assert.deepEqual(f.store.gate(inGroup('42', 'g')), { action: 'drop' });
  assert.equal(f.store.gate(inGroup('42', 'g', { mentioned: true })).action, 'deliver');
});

test('a group without requireMention delivers every message, from members not in allowFrom', (t) => {
  const f = setup(t, { allowFrom: [], groups: { g: { requireMention: false, allowFrom: [] } } });
  assert.equal(f.store.gate(inGroup('42', 'g')).action, 'deliver');
  assert.deepEqual(f.store.load().pending, {}, 'group members are not asked to pair');
});

test('mentionPatterns match case-insensitively and an invalid pattern is skipped', (t) => {
  const f = setup(t, {
    groups: { g: { requireMention: true, allowFrom: [] } },
    mentionPatterns: ['([', '\\bclaude\\b'],
  });
  assert.equal(f.store.gate(inGroup('42', 'g', { text: 'Hey CLAUDE, look' })).action, 'deliver');
  assert.deepEqual(f.store.gate(inGroup('42', 'g', { text: 'claudette' })), { action: 'drop' });
  assert.ok(f.logs.some((line) => line.includes('invalid mentionPatterns entry')));
});

test("a group's allowFrom keeps other members out even when they mention the bot", (t) => {
  const f = setup(t, { allowFrom: ['outsider'], groups: { g: { requireMention: true, allowFrom: ['member'] } } });
  assert.deepEqual(f.store.gate(inGroup('outsider', 'g', { mentioned: true })), { action: 'drop' });
  assert.equal(f.store.gate(inGroup('member', 'g', { mentioned: true })).action, 'deliver');
});

test('a thread is gated by the group key its platform passes (the parent channel)', (t) => {
  const f = setup(t, { groups: { parent: { requireMention: false, allowFrom: [] } } });
  assert.equal(f.store.gate(inGroup('42', 'thread-1', { groupKey: 'parent' })).action, 'deliver');
  assert.deepEqual(f.store.gate(inGroup('42', 'thread-1')), { action: 'drop' });
});

// --- outbound and permission relay ---

test('the agent may target allowlisted DMs and configured groups only', (t) => {
  const f = setup(t, { allowFrom: ['1'], groups: { g: { requireMention: true, allowFrom: [] } } });
  assert.equal(f.store.canSendTo('1'), true);
  assert.equal(f.store.canSendTo('g'), true);
  assert.equal(f.store.canSendTo('dm-channel-1'), false);
  assert.equal(f.store.canSendTo('dm-channel-1', { dmWith: '1' }), true);
  assert.equal(f.store.canSendTo('dm-channel-2', { dmWith: '2' }), false);
  assert.equal(f.store.canSendTo('thread-1', { groupKey: 'g' }), true);
  assert.throws(() => f.store.assertCanSendTo('99'), {
    message: 'chat 99 is not allowlisted — add via /telegram:access',
  });
  assert.doesNotThrow(() => f.store.assertCanSendTo('1'));
});

test('the outbound gate sees access.json changes immediately', (t) => {
  const f = setup(t, { allowFrom: [] });
  assert.equal(f.store.canSendTo('1'), false);
  f.write({ allowFrom: ['1'] });
  assert.equal(f.store.canSendTo('1'), true);
});

test('a disabled channel may not send either', (t) => {
  const f = setup(t, { dmPolicy: 'disabled', allowFrom: ['1'] });
  assert.equal(f.store.canSendTo('1'), false);
  assert.throws(() => f.store.assertCanSendTo('1'), /dmPolicy is "disabled"/);
  assert.deepEqual(f.store.permissionRecipients(), { userIds: [], nobodyBecause: 'dmPolicy is "disabled"' });
  assert.equal(f.store.mayAnswerPermission('1', true), false);
});

test('permission prompts go to allowlisted senders; only their DMs may answer', (t) => {
  const f = setup(t, { allowFrom: ['1', '2'], groups: { g: { requireMention: false, allowFrom: [] } } });
  assert.deepEqual(f.store.permissionRecipients(), { userIds: ['1', '2'] });
  assert.equal(f.store.mayAnswerPermission('1', true), true);
  assert.equal(f.store.mayAnswerPermission('1', false), false, 'not from a group, even an allowlisted sender');
  assert.equal(f.store.mayAnswerPermission('3', true), false);
});

test('permissionPrompts off sends prompts to nobody; typed answers from allowlisted DMs still count', (t) => {
  const f = setup(t, { allowFrom: ['1'], permissionPrompts: 'off' });
  assert.deepEqual(f.store.permissionRecipients(), { userIds: [], nobodyBecause: 'permissionPrompts is off' });
  assert.equal(f.store.mayAnswerPermission('1', true), true);
  f.store.set('permissionPrompts', 'on');
  assert.deepEqual(f.store.permissionRecipients(), { userIds: ['1'] });
  assert.throws(() => f.store.set('permissionPrompts', 'sometimes'), /invalid permissionPrompts "sometimes": expected on, off/);
  const none = setup(t, { allowFrom: [] });
  assert.deepEqual(none.store.permissionRecipients(), { userIds: [], nobodyBecause: 'nobody is allowlisted' });
});

// --- approvals (spec items 29-31) ---

function writeApproval(stateDir: string, senderId: string, content: string): string {
  mkdirSync(join(stateDir, 'approved'), { recursive: true });
  const file = join(stateDir, 'approved', senderId);
  writeFileSync(file, content);
  return file;
}

test('an approval file is confirmed to its chat and deleted', async (t) => {
  const f = setup(t);
  const file = writeApproval(f.stateDir, '42', 'dm-42\n');
  const sent: string[][] = [];
  await f.store.deliverApprovals((senderId, chatId, text) => {
    sent.push([senderId, chatId, text]);
  });
  assert.deepEqual(sent, [['42', 'dm-42', PAIRED_TEXT]]);
  assert.equal(PAIRED_TEXT, 'Paired! Say hi to Claude.');
  assert.equal(existsSync(file), false);
});

test('an approval file is deleted even when sending fails, and the failure is logged', async (t) => {
  const f = setup(t);
  const file = writeApproval(f.stateDir, '42', '42');
  await f.store.deliverApprovals(() => Promise.reject(new Error('chat not found')));
  assert.equal(existsSync(file), false);
  assert.ok(f.logs.some((line) => line.includes('chat not found')));
});

test('an empty approval file is deleted without sending; one still being written is left alone', async (t) => {
  const f = setup(t);
  const empty = writeApproval(f.stateDir, '42', '  \n');
  const partial = writeApproval(f.stateDir, '43.tmp', '43');
  let sends = 0;
  await f.store.deliverApprovals(() => {
    sends += 1;
  });
  assert.equal(sends, 0);
  assert.equal(existsSync(empty), false);
  assert.equal(existsSync(partial), true);
});

test('the poller confirms approvals on its interval until stopped', async (t) => {
  const f = setup(t);
  const sent: string[] = [];
  const stop = f.store.startApprovalPoller((senderId) => {
    sent.push(senderId);
  }, 10);
  t.after(stop);
  writeApproval(f.stateDir, '42', '42');
  await waitFor(() => sent.length === 1);
  stop();
  writeApproval(f.stateDir, '43', '43');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(sent, ['42']);
  assert.equal(existsSync(join(f.stateDir, 'approved', '43')), true);
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// --- static mode (spec item 32) ---

test('static mode reads access.json once, downgrades pairing, and never writes', async (t) => {
  const seed = {
    dmPolicy: 'pairing',
    allowFrom: ['1'],
    pending: { abc123: { senderId: '7', chatId: '7', createdAt: T0, expiresAt: T0 + HOUR, replies: 1 } },
  };
  const f = setup(t, seed, { env: { TELEGRAM_ACCESS_MODE: 'static' } });
  assert.equal(f.store.isStatic, true);
  assert.deepEqual(f.logs, ['static mode — dmPolicy "pairing" downgraded to "allowlist"']);
  const before = readFileSync(f.file, 'utf8');

  assert.deepEqual(f.store.gate(dm('42')), { action: 'drop' });
  assert.deepEqual(f.store.load().pending, {}, 'pending codes are emptied');
  assert.equal(f.store.load().dmPolicy, 'allowlist');
  assert.equal(f.store.gate(dm('1')).action, 'deliver');
  f.write({ dmPolicy: 'allowlist', allowFrom: ['42'] });
  assert.deepEqual(f.store.gate(dm('42')), { action: 'drop' }, 'edits after boot are ignored');
  assert.equal(f.store.canSendTo('42'), false);
  assert.equal(f.store.canSendTo('1'), true);
  f.write(before);

  const approval = writeApproval(f.stateDir, '1', '1');
  let sends = 0;
  await f.store.deliverApprovals(() => {
    sends += 1;
  });
  f.store.startApprovalPoller(() => {
    sends += 1;
  }, 5)();
  assert.equal(sends, 0);
  assert.equal(existsSync(approval), true);
  assert.equal(readFileSync(f.file, 'utf8'), before);
});

test('the static-mode variable is named after the channel', (t) => {
  const f = setup(t, undefined, { name: 'fake-chat', env: { FAKE_CHAT_ACCESS_MODE: 'static' } });
  assert.equal(f.store.isStatic, true);
  assert.equal(f.open({ env: { TELEGRAM_ACCESS_MODE: 'static' } }).isStatic, false);
});

// --- the /<plugin>:access operations ---

test('pair allowlists the sender, removes the code and leaves the approval for the poller', async (t) => {
  const f = setup(t);
  const code = pairCode(f.store, dm('42', { chatId: 'dm-42' }));
  const other = pairCode(f.store, dm('43'));
  assert.deepEqual(f.store.pair(code.toUpperCase()), {
    senderId: '42',
    chatId: 'dm-42',
    createdAt: T0,
    expiresAt: T0 + HOUR,
    replies: 1,
  });
  assert.deepEqual(f.read().allowFrom, ['42']);
  assert.deepEqual(Object.keys(f.read().pending), [other], 'other pending codes survive');
  assert.equal(readFileSync(join(f.stateDir, 'approved', '42'), 'utf8'), 'dm-42');
  assert.equal(f.store.gate(dm('42')).action, 'deliver');
  const sent: string[][] = [];
  await f.store.deliverApprovals((senderId, chatId) => {
    sent.push([senderId, chatId]);
  });
  assert.deepEqual(sent, [['42', 'dm-42']]);
});

test('pair does not add a sender twice', (t) => {
  const f = setup(t, {
    allowFrom: ['42'],
    pending: { abc123: { senderId: '42', chatId: '42', createdAt: T0, expiresAt: T0 + HOUR, replies: 1 } },
  });
  f.store.pair('abc123');
  assert.deepEqual(f.read().allowFrom, ['42']);
});

test('pair refuses unknown and expired codes and changes nothing', (t) => {
  const f = setup(t);
  const code = pairCode(f.store, dm('42'));
  const before = readFileSync(f.file, 'utf8');
  assert.throws(() => f.store.pair('ffffff'), /no pending pairing with code "ffffff"/);
  f.clock.now = T0 + HOUR + 1;
  assert.throws(() => f.store.pair(code), /has expired/);
  assert.equal(readFileSync(f.file, 'utf8'), before);
  assert.equal(existsSync(join(f.stateDir, 'approved')), false);
});

test('pair refuses a sender id that would escape approved/', (t) => {
  const f = setup(t, {
    pending: { abc123: { senderId: '../access.json', chatId: 'x', createdAt: T0, expiresAt: T0 + HOUR, replies: 1 } },
  });
  assert.throws(() => f.store.pair('abc123'), /not usable as a file name/);
  assert.deepEqual(f.store.load().allowFrom, []);
});

test('deny drops the code without allowlisting anyone', (t) => {
  const f = setup(t);
  const code = pairCode(f.store, dm('42'));
  assert.equal(f.store.deny(code).senderId, '42');
  assert.deepEqual(f.read().pending, {});
  assert.deepEqual(f.read().allowFrom, []);
  assert.throws(() => f.store.deny(code), /no pending pairing/);
});

test('allow and remove edit allowFrom, deduplicated, creating the file when missing', (t) => {
  const f = setup(t);
  assert.equal(f.store.allow('1'), true);
  assert.equal(f.store.allow('1'), false);
  assert.equal(f.store.allow('2'), true);
  assert.deepEqual(f.read(), { dmPolicy: 'pairing', allowFrom: ['1', '2'], groups: {}, pending: {} });
  assert.equal(f.store.remove('1'), true);
  assert.equal(f.store.remove('1'), false);
  assert.deepEqual(f.read().allowFrom, ['2']);
  assert.throws(() => f.store.allow('  '), /sender id is required/);
});

test('operations read the file fresh, keeping what others wrote since', (t) => {
  const f = setup(t);
  f.store.allow('1');
  f.write({ ...f.read(), groups: { g: { requireMention: false, allowFrom: [] } } });
  f.store.allow('2');
  assert.deepEqual(Object.keys(f.read().groups), ['g']);
});

test('policy accepts the three modes only', (t) => {
  const f = setup(t);
  f.store.setPolicy('allowlist');
  assert.equal(f.read().dmPolicy, 'allowlist');
  assert.throws(() => f.store.setPolicy('open'), {
    message: 'invalid policy "open": expected pairing, allowlist, disabled',
  });
  assert.equal(f.read().dmPolicy, 'allowlist');
});

test('group add and rm configure which groups are heard', (t) => {
  const f = setup(t);
  f.store.addGroup('g1');
  f.store.addGroup('g2', { requireMention: false, allowFrom: ['1', '1', '2'] });
  assert.deepEqual(f.read().groups, {
    g1: { requireMention: true, allowFrom: [] },
    g2: { requireMention: false, allowFrom: ['1', '2'] },
  });
  assert.equal(f.store.gate(inGroup('1', 'g2')).action, 'deliver');
  assert.equal(f.store.removeGroup('g2'), true);
  assert.equal(f.store.removeGroup('g2'), false);
  assert.deepEqual(f.store.gate(inGroup('1', 'g2')), { action: 'drop' });
});

test('set validates each setting and stores it with its JSON type', (t) => {
  const f = setup(t);
  f.store.set('ackReaction', '👀');
  f.store.set('replyToMode', 'all');
  f.store.set('textChunkLimit', '1000');
  f.store.set('chunkMode', 'newline');
  f.store.set('mentionPatterns', '["^claude\\\\b", "hey bot"]');
  const saved = f.read();
  assert.equal(saved.ackReaction, '👀');
  assert.equal(saved.replyToMode, 'all');
  assert.equal(saved.textChunkLimit, 1000);
  assert.equal(saved.chunkMode, 'newline');
  assert.deepEqual(saved.mentionPatterns, ['^claude\\b', 'hey bot']);
  f.store.set('ackReaction', '""');
  assert.equal(f.read().ackReaction, '');

  const rejections: Array<[string, string, RegExp]> = [
    ['replyToMode', 'sometimes', /invalid replyToMode "sometimes": expected off, first, all/],
    ['chunkMode', 'words', /invalid chunkMode "words"/],
    ['textChunkLimit', 'lots', /textChunkLimit must be a whole number/],
    ['textChunkLimit', '0', /textChunkLimit must be a whole number/],
    ['textChunkLimit', '', /textChunkLimit must be a whole number/],
    ['mentionPatterns', 'claude', /JSON array of strings/],
    ['mentionPatterns', '[1]', /list of regular expressions/],
    ['mentionPatterns', '["(["]', /mentionPatterns: Invalid regular expression/],
    ['dmPolicy', 'allowlist', /unknown setting "dmPolicy"/],
  ];
  const before = readFileSync(f.file, 'utf8');
  for (const [key, value, error] of rejections) {
    assert.throws(() => f.store.set(key, value), error, `${key} ${value}`);
  }
  assert.equal(readFileSync(f.file, 'utf8'), before);
});

test('status summarises policy, allowlist, pending codes with their age, groups and settings', (t) => {
  const f = setup(t, { allowFrom: ['1', '2'], groups: { g: { requireMention: false, allowFrom: ['1'] } } });
  const code = pairCode(f.store, dm('42'));
  f.clock.now = T0 + 5 * 60_000;
  f.store.set('replyToMode', 'off');
  assert.equal(
    f.store.status(),
    [
      'dmPolicy: pairing',
      'allowFrom (2): 1, 2',
      'pending (1):',
      `  ${code}  sender 42  5 min ago`,
      'groups (1):',
      '  g  no mention needed  members: 1',
      'replyToMode: "off"',
    ].join('\n'),
  );
  assert.equal(
    setup(t).store.status(),
    ['dmPolicy: pairing', 'allowFrom (0): (none)', 'pending (0)', 'groups (0)'].join('\n'),
  );
});
