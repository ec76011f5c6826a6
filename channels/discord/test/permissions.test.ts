/** Permission prompts in allowlisted users' DMs, answered by button or typed verdict, only by them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DcMessage } from '@openchannels/testkit';
import { ALICE_ID, accessJson, startDiscord, startInGuild } from './helpers.js';

test('a prompt with buttons goes to the allowlisted DM; See more expands; Allow answers and settles it', async (t) => {
  const run = await startDiscord(t);
  await run.barrier();
  const { dc, host, aliceDm } = run;
  const request = await host.requestPermission('Bash', 'list files', { command: 'ls -la' });
  const call = await dc.nextCall('POST /channels/:id/messages', (c) => String(c.body.content).startsWith('🔐'));
  assert.ok(call.path.includes(aliceDm.id), 'sent to the DM channel of the allowlisted user');
  assert.equal(call.body.content, '🔐 Permission: Bash');
  const ids = JSON.stringify(call.body.components);
  for (const action of ['more', 'allow', 'deny']) assert.ok(ids.includes(`perm:${action}:${request.request_id}`));
  const prompt = call.result as DcMessage;
  dc.press(run.alice, prompt, `perm:more:${request.request_id}`);
  const more = await dc.nextCall('POST /interactions/:id/:token/callback');
  assert.equal(more.body.type, 7);
  const expanded = more.body.data as { content: string; components: unknown[] };
  assert.match(expanded.content, /^🔐 Permission: Bash\n\ntool_name: Bash\ndescription: list files\ninput_preview:\n\{\n {2}"command": "ls -la"\n\}$/);
  assert.ok(!JSON.stringify(expanded.components).includes('perm:more'));
  dc.press(run.alice, dc.history(aliceDm).find((m) => m.id === prompt.id)!, `perm:allow:${request.request_id}`);
  const verdict = await host.nextVerdict();
  assert.deepEqual(verdict, { request_id: request.request_id, behavior: 'allow' });
  const settled = await dc.nextCall('POST /interactions/:id/:token/callback', (c) => c.body.type === 7);
  assert.deepEqual((settled.body.data as { components: unknown[] }).components, []);
  assert.match((settled.body.data as { content: string }).content, /\n\n✅ Allowed$/);
  // A decided request's details are gone: a late See more (from an old copy of the prompt) says so.
  dc.press(run.alice, prompt, `perm:more:${request.request_id}`);
  const late = await dc.nextCall('POST /interactions/:id/:token/callback', (c) => c.body.type === 4);
  assert.deepEqual(late.body, { type: 4, data: { content: 'Details no longer available.', flags: 64 } });
});

test('a guild member can neither press a prompt button nor type a verdict; alice can type one', async (t) => {
  const run = await startInGuild(t, { requireMention: false });
  const { general, bob } = run;
  await run.barrier();
  const { dc, host } = run;
  const request = await host.requestPermission();
  const call = await dc.nextCall('POST /channels/:id/messages', (c) => String(c.body.content).startsWith('🔐'));
  dc.press(bob, call.result as DcMessage, `perm:allow:${request.request_id}`);
  const refused = await dc.nextCall('POST /interactions/:id/:token/callback');
  assert.deepEqual(refused.body, { type: 4, data: { content: 'Not authorized.', flags: 64 } });
  dc.post(general, bob, `yes ${request.request_id}`);
  const asChat = await host.nextEvent((e) => e.content === `yes ${request.request_id}`);
  assert.equal(asChat.meta?.user, 'bob', "bob's verdict is ordinary chat");
  // Alice in the guild channel is not in her DM: chat too.
  dc.post(general, run.alice, `yes ${request.request_id}`);
  await host.nextEvent((e) => e.meta?.user_id === ALICE_ID && e.content === `yes ${request.request_id}`);
  assert.equal(host.verdicts.received.length, 0);
  const typed = dc.dm(run.alice, `no ${request.request_id}`);
  assert.deepEqual(await host.nextVerdict(), { request_id: request.request_id, behavior: 'deny' });
  const reaction = await dc.nextCall('PUT /channels/:id/messages/:id/reactions/:emoji/@me', (c) => c.path.includes(typed.id));
  assert.equal(reaction.body.emoji, '❌');
  await dc.nextCall('PATCH /channels/:id/messages/:id', (c) => String(c.body.content).endsWith('❌ Denied'));
});

test('with permissionPrompts off no prompt is sent to Discord; a typed answer from an allowlisted DM still counts', async (t) => {
  const run = await startDiscord(t, { access: accessJson({ permissionPrompts: 'off' }) });
  await run.barrier();
  const { dc, host } = run;
  const request = await host.requestPermission();
  await host.stderrMatch(/permission request [a-km-z]{5} not shown on Discord: permissionPrompts is off; answer it in the terminal/);
  await dc.calls.settle(300);
  assert.ok(!dc.callsTo('POST /channels/:id/messages').some((c) => String(c.body.content).startsWith('🔐')));
  dc.dm(run.alice, `yes ${request.request_id}`);
  assert.deepEqual(await host.nextVerdict(), { request_id: request.request_id, behavior: 'allow' });
});
