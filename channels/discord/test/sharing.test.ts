/**
 * One bot, many sessions: every session that starts the channel shares one gateway connection
 * (the kit's hub), the user picks the receiving session with `/sessions` and `/use N` in their DM,
 * and the connection moves to another session when the leading one ends.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { DcMessage, FakeDiscord, FakeHost } from '@openchannels/testkit';
import { startDiscord, waitFor } from './helpers.js';

async function anotherSession(t: TestContext, dc: FakeDiscord, stateDir: string, project: string): Promise<FakeHost> {
  const run = await startDiscord(t, { dc, stateDir, env: { CLAUDE_PROJECT_DIR: `/projects/${project}` } });
  return run.host;
}

/** Asks the bot for its sessions until it lists `count`, returning the listing. */
async function sessionsListed(dc: FakeDiscord, alice: Parameters<FakeDiscord['dm']>[0], count: number): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    dc.dm(alice, '/sessions');
    const answer = await dc.nextCall('POST /channels/:id/messages', (c) => /^(Sessions attached|No Claude)/.test(String(c.body.content)));
    const text = String(answer.body.content);
    if (text.split('\n').filter((l) => /^\d+\. /.test(l)).length === count) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the bot never listed ${count} sessions`);
}

test('two sessions share one gateway connection; /use routes DMs; replies name their session', async (t) => {
  const first = await startDiscord(t, { env: { CLAUDE_PROJECT_DIR: '/projects/api' } });
  const { dc, alice, aliceDm, stateDir } = first;
  await first.barrier();
  const second = await anotherSession(t, dc, stateDir, 'web');
  const listing = await sessionsListed(dc, alice, 2);
  assert.equal(listing, 'Sessions attached to this bot:\n1. api\n2. web ← receives your messages\n\nSend /use <number> to choose which one receives your messages.');
  assert.equal(dc.gatewayOps.received.filter((op) => op === 2).length, 1, 'one gateway connection for both sessions');
  dc.dm(alice, 'hello, newest session');
  await second.nextEvent((e) => e.content === 'hello, newest session');
  dc.dm(alice, '/use 1');
  const switched = await dc.nextCall('POST /channels/:id/messages', (c) => String(c.body.content).startsWith('Your messages'));
  assert.equal(switched.body.content, 'Your messages now go to 1. api.');
  dc.dm(alice, 'for the api session');
  await first.host.nextEvent((e) => e.content === 'for the api session');
  await second.events.settle(300);
  assert.ok(!second.events.received.some((e) => e.content === 'for the api session'), 'delivered to one session only');
  await second.tool('reply', { chat_id: aliceDm.id, text: 'from the web project' });
  assert.equal(dc.sentTexts(aliceDm).at(-1), '[web] from the web project');
});

test('a prompt from the session without the connection is shown by the leader and answered', async (t) => {
  const first = await startDiscord(t, { env: { CLAUDE_PROJECT_DIR: '/projects/api' } });
  const { dc, alice, stateDir } = first;
  await first.barrier();
  const second = await anotherSession(t, dc, stateDir, 'web');
  await sessionsListed(dc, alice, 2);
  const request = await second.requestPermission('Bash', 'deploy', { command: 'make deploy' });
  const prompt = await dc.nextCall('POST /channels/:id/messages', (c) => String(c.body.content).startsWith('🔐'));
  assert.equal(prompt.body.content, '🔐 Permission: Bash (session web)');
  dc.press(alice, prompt.result as DcMessage, `perm:allow:${request.request_id}`);
  assert.equal((await second.nextVerdict((v) => v.request_id === request.request_id)).behavior, 'allow');
});

test('when the leading session ends, another takes over the connection and messages keep arriving', async (t) => {
  const first = await startDiscord(t, { env: { CLAUDE_PROJECT_DIR: '/projects/api' } });
  const { dc, alice, stateDir } = first;
  await first.barrier();
  const second = await anotherSession(t, dc, stateDir, 'web');
  await sessionsListed(dc, alice, 2);
  await first.host.close();
  await waitFor(() => dc.gatewayOps.received.filter((op) => op === 2).length === 2, 'the second session to identify', 10000);
  await dc.connected();
  dc.dm(alice, 'after the first session left');
  await second.nextEvent((e) => e.content === 'after the first session left', 10000);
});
