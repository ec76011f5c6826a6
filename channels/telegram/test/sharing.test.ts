/**
 * One bot, many sessions: every session that starts the channel shares one connection to
 * Telegram (the kit's hub), the user picks the receiving session from the chat, and nothing is
 * lost while sessions come and go or crash.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { FakeHost, type FakeTelegram } from '@openchannels/testkit';
import { ALICE_ID, pluginDir, sentTexts, startTelegram, telegramEnv } from './helpers.js';

/** Another session on the same machine: same bot, same state directory, its own project. */
async function anotherSession(t: TestContext, tg: FakeTelegram, stateDir: string, project: string): Promise<FakeHost> {
  const host = await FakeHost.plugin(pluginDir, {
    env: { ...telegramEnv(tg, stateDir), CLAUDE_PROJECT_DIR: `/projects/${project}` },
  });
  t.after(() => host.close());
  return host;
}

/** Asks the bot for its sessions until it lists `count`, returning the listing. */
async function sessionsListed(tg: FakeTelegram, alice: Parameters<FakeTelegram['dm']>[0], count: number): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    tg.dm(alice, '/sessions');
    const answer = await tg.nextCall('sendMessage', (c) => String(c.params.text).startsWith('Sessions attached') || String(c.params.text).startsWith('No Claude'));
    const text = String(answer.params.text);
    if (text.split('\n').filter((l) => /^\d+\. /.test(l)).length === count) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the bot never listed ${count} sessions`);
}

test('two sessions share one bot: one poller, no 409, messages go to the session attached last', async (t) => {
  const first = await startTelegram(t, { env: { CLAUDE_PROJECT_DIR: '/projects/api' } });
  const { tg, alice, stateDir } = first;
  await first.barrier(); // the first session is polling
  const second = await anotherSession(t, tg, stateDir, 'web');
  const listing = await sessionsListed(tg, alice, 2);
  assert.equal(listing, 'Sessions attached to this bot:\n1. api\n2. web ← receives your messages\n\nSend /use <number> to choose which one receives your messages.');
  tg.dm(alice, 'hello, newest session');
  const event = await second.nextEvent((e) => e.content === 'hello, newest session');
  assert.equal(event.meta?.chat_id, String(ALICE_ID));
  await first.host.events.settle(300);
  assert.ok(!first.host.events.received.some((e) => e.content === 'hello, newest session'), 'delivered to one session only');
  assert.equal(tg.pollerConflicts, 0, 'our sessions never fight over getUpdates');
});

test('/use picks the receiving session, and replies name their session while several are attached', async (t) => {
  const first = await startTelegram(t, { env: { CLAUDE_PROJECT_DIR: '/projects/api' } });
  const { tg, alice, stateDir } = first;
  await first.barrier();
  const reply = await first.host.tool('reply', { chat_id: String(ALICE_ID), text: 'alone' });
  assert.equal(reply.isError, false);
  assert.equal(sentTexts(tg, ALICE_ID).at(-1), 'alone', 'no session name while one session is attached');
  const second = await anotherSession(t, tg, stateDir, 'web');
  await sessionsListed(tg, alice, 2);
  tg.dm(alice, '/use 1');
  const switched = await tg.nextCall('sendMessage', (c) => String(c.params.text).startsWith('Your messages'));
  assert.equal(switched.params.text, 'Your messages now go to 1. api.');
  tg.dm(alice, 'for the api session');
  await first.host.nextEvent((e) => e.content === 'for the api session');
  tg.dm(alice, '/use 7');
  const refused = await tg.nextCall('sendMessage', (c) => String(c.params.text).startsWith('No session'));
  assert.equal(refused.params.text, 'No session 7: send /sessions for the list.');
  await second.tool('reply', { chat_id: String(ALICE_ID), text: 'from the web project' });
  assert.equal(sentTexts(tg, ALICE_ID).at(-1), '[web] from the web project');
  assert.equal(tg.pollerConflicts, 0);
});

test('when the polling session ends, another takes over and messages keep arriving', async (t) => {
  const first = await startTelegram(t, { env: { CLAUDE_PROJECT_DIR: '/projects/api' } });
  const { tg, alice, stateDir } = first;
  await first.barrier();
  const second = await anotherSession(t, tg, stateDir, 'web');
  await sessionsListed(tg, alice, 2);
  await first.host.close();
  tg.dm(alice, 'after the first session left');
  await second.nextEvent((e) => e.content === 'after the first session left', 10000);
  await tg.allConfirmed(5000);
  assert.equal(tg.pollerConflicts, 0);
});

test('messages sent while no session runs arrive once, in order, when one starts; nobody polls meanwhile', async (t) => {
  const first = await startTelegram(t);
  const { tg, alice, stateDir } = first;
  await first.barrier();
  await first.host.close();
  await new Promise((r) => setTimeout(r, 300));
  const pollsAfterClose = tg.callsTo('getUpdates').length;
  for (const text of ['one', 'two', 'three']) tg.dm(alice, text);
  await new Promise((r) => setTimeout(r, 2500)); // longer than a poll: a leftover poller would have asked
  assert.equal(tg.callsTo('getUpdates').length, pollsAfterClose, 'no process kept polling after the last session ended');
  const next = await anotherSession(t, tg, stateDir, 'api');
  const received: string[] = [];
  for (const text of ['one', 'two', 'three']) received.push((await next.nextEvent((e) => e.content === text, 10000)).content);
  assert.deepEqual(received, ['one', 'two', 'three']);
  await tg.allConfirmed(5000);
  await next.events.settle(300);
  assert.equal(next.events.received.filter((e) => ['one', 'two', 'three'].includes(e.content)).length, 3, 'none twice');
});

test('a session killed while handling a message loses nothing: the next session delivers it once', async (t) => {
  const first = await startTelegram(t);
  const { tg, alice, stateDir } = first;
  await first.barrier();
  // The photo's download hangs: the message is received from Telegram but not yet delivered.
  tg.fail('getFile', { delayMs: 20_000 });
  tg.dm(alice, { photo: tg.photo('not really a jpeg'), caption: 'the build log' });
  await tg.arrivals.next((call) => call.method === 'getFile');
  process.kill(first.host.connection.pid!, 'SIGKILL');
  const next = await anotherSession(t, tg, stateDir, 'api');
  const event = await next.nextEvent((e) => e.content === 'the build log', 15000);
  assert.ok(event.meta?.image_path, 'the photo was fetched by the session that took over');
  await tg.allConfirmed(5000);
  await next.events.settle(300);
  assert.equal(next.events.received.filter((e) => e.content === 'the build log').length, 1);
});

test("a permission prompt from a session that does not poll is shown by the one that does, and answered", async (t) => {
  const first = await startTelegram(t, { env: { CLAUDE_PROJECT_DIR: '/projects/api' } });
  const { tg, alice, stateDir } = first;
  await first.barrier();
  const second = await anotherSession(t, tg, stateDir, 'web');
  await sessionsListed(tg, alice, 2);
  const request = await second.requestPermission('Bash', 'deploy', { command: 'make deploy' });
  const prompt = await tg.nextCall('sendMessage', (c) => String(c.params.text).startsWith('🔐 Permission'));
  assert.equal(prompt.params.text, '🔐 Permission: Bash (session web)');
  const sent = tg.message(ALICE_ID, (prompt.result as { message_id: number }).message_id)!;
  tg.press(alice, sent, `perm:allow:${request.request_id}`);
  const verdict = await second.nextVerdict((v) => v.request_id === request.request_id);
  assert.equal(verdict.behavior, 'allow');
});

test('a permission prompt asked while the polling session dies waits for the next one to show it', async (t) => {
  const first = await startTelegram(t, { env: { CLAUDE_PROJECT_DIR: '/projects/api' } });
  const { tg, alice, stateDir } = first;
  await first.barrier();
  const second = await anotherSession(t, tg, stateDir, 'web');
  await sessionsListed(tg, alice, 2);
  process.kill(first.host.connection.pid!, 'SIGKILL');
  const request = await second.requestPermission('Bash', 'deploy', { command: 'make deploy' });
  const prompt = await tg.nextCall('sendMessage', (c) => String(c.params.text).startsWith('🔐 Permission'), 10000);
  assert.equal(prompt.params.text, '🔐 Permission: Bash');
  tg.press(alice, tg.message(ALICE_ID, (prompt.result as { message_id: number }).message_id)!, `perm:deny:${request.request_id}`);
  assert.equal((await second.nextVerdict((v) => v.request_id === request.request_id)).behavior, 'deny');
  assert.ok(!second.stderr.received.some((line) => line.includes('not relayed')));
});
