/**
 * The poller against the fake Bot API, in process and with short retry delays: every failure
 * Telegram or the network can produce is retried, reported with its cause, and polling resumes;
 * an update is confirmed only once it was handled.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { FakeTelegram, Mailbox, tempStateDir } from '@openchannels/testkit';
import type { Update } from 'grammy/types';
import { HANDLED_UPDATES, TelegramConnector, apiSignal } from '../src/connector.js';
import { Poller } from '../src/poller.js';

interface Rig {
  tg: FakeTelegram;
  poller: Poller;
  logs: Mailbox<string>;
  handled: Mailbox<Update>;
}

interface RigOptions {
  onUpdates?: (updates: Update[]) => Promise<void>;
  /** Runs after the bot identified itself, with the poller's signal. */
  afterPrepare?: (signal: AbortSignal) => Promise<void>;
  timeoutSeconds?: number;
}

async function startPoller(
  t: TestContext,
  { onUpdates, afterPrepare, timeoutSeconds = 1 }: RigOptions = {},
): Promise<Rig> {
  const tg = await FakeTelegram.start({ username: 'poll_bot' });
  const inboxDir = tempStateDir('telegram-poller-');
  const connector = new TelegramConnector({ token: tg.token, apiRoot: tg.apiRoot, inboxDir });
  const logs = new Mailbox<string>();
  const handled = new Mailbox<Update>();
  const poller = new Poller({
    api: connector.api,
    log: (line) => logs.push(line),
    allowedUpdates: HANDLED_UPDATES,
    timeoutSeconds,
    delays: { stepMs: 40, maxMs: 120, unauthorizedMs: 150 },
    prepare: async (signal) => {
      await connector.identify(signal);
      await connector.api.deleteWebhook({}, apiSignal(signal));
      await afterPrepare?.(signal);
    },
    onUpdates: async (updates) => {
      if (onUpdates) await onUpdates(updates);
      for (const update of updates) handled.push(update);
    },
  });
  poller.start();
  t.after(async () => {
    await poller.stop();
    await tg.close();
    rmSync(inboxDir, { recursive: true, force: true });
  });
  return { tg, poller, logs, handled };
}

const alice = { id: 111, is_bot: false, first_name: 'Alice', username: 'alice' };

test('a 5xx answer is retried with growing delays, and polling resumes', async (t) => {
  const { tg, logs, handled } = await startPoller(t);
  tg.fail('getUpdates', { status: 502 }, 2);
  tg.dm(alice, 'after the outage');
  assert.equal((await handled.next()).message?.text, 'after the outage');
  await logs.next((line) => line.startsWith('polling resumed'));
  assert.deepEqual(logs.received, [
    'polling error: 502 Bad Gateway, retrying in 40ms',
    'polling error: 502 Bad Gateway, retrying in 80ms',
    'polling resumed after 2 failed attempt(s)',
  ]);
});

test('a 429 waits as long as Telegram says in retry_after', async (t) => {
  const { tg, logs, handled } = await startPoller(t);
  await tg.nextCall('getUpdates');
  tg.fail('getUpdates', { status: 429, retryAfter: 1 });
  tg.dm(alice, 'first'); // ends the held poll; the next one is refused
  await handled.next();
  await tg.nextCall('getUpdates', (call) => call.error !== undefined);
  const refusedAt = Date.now();
  tg.dm(alice, 'second');
  await handled.next((update) => update.message?.text === 'second', 3000);
  assert.ok(Date.now() - refusedAt >= 950, `polled again after ${Date.now() - refusedAt} ms, not after 1 s`);
  assert.match(
    logs.received.join('\n'),
    /Telegram asked to slow down \(429 Too Many Requests: retry after 1\), retrying in 1s/,
  );
});

test('409 from another poller is reported, retried without giving up, and polling resumes', async (t) => {
  const { tg, logs, handled } = await startPoller(t);
  // The reference gave up after 8; a session must not go deaf because a stray poller lingered.
  tg.fail('getUpdates', { status: 409 }, 10);
  tg.dm(alice, 'finally');
  assert.equal((await handled.next(undefined, 5000)).message?.text, 'finally');
  await logs.next((line) => line.startsWith('polling resumed'));
  const lines = logs.received;
  assert.match(
    lines[0]!,
    /^409 Conflict — another process is polling this bot token \(a second Claude Code session, or a stray server left running\?\)/,
  );
  assert.match(lines[0]!, /terminated by other getUpdates request/);
  assert.equal(lines.filter((line) => /^409 Conflict persists \(attempt \d+\)/.test(line)).length, 9);
  assert.match(lines[9]!, /retrying in 120ms$/, 'the delay stops growing at its cap');
  assert.equal(lines.at(-1), 'polling resumed after 10 failed attempt(s)');
});

test('a real second poller on the same token makes Telegram end ours with 409; ours carries on after', async (t) => {
  const { tg, logs, handled } = await startPoller(t);
  await tg.nextCall('getUpdates');
  // Another process polls the same token: Telegram terminates the request we had waiting.
  const other = await fetch(`${tg.apiRoot}/bot${tg.token}/getUpdates?timeout=0`);
  assert.equal(other.status, 200);
  await logs.next((line) => line.startsWith('409 Conflict'));
  tg.dm(alice, 'still listening');
  assert.equal((await handled.next()).message?.text, 'still listening');
});

test('a refused token (401) is reported once with what to do, then retried slowly until it works', async (t) => {
  const { tg, logs, handled } = await startPoller(t);
  tg.fail('getMe', { status: 401 }, 4);
  tg.fail('getUpdates', { status: 401 }, 1);
  tg.dm(alice, 'token fixed');
  assert.equal((await handled.next(undefined, 5000)).message?.text, 'token fixed');
  const reports = logs.received.filter((line) => line.includes('refused the bot token'));
  assert.equal(reports.length, 1, logs.received.join('\n'));
  assert.match(reports[0]!, /Check it with \/telegram:configure or `openchannels configure telegram <token>`/);
  // getMe is asked again until it answers: the bot must know who it is before reading messages.
  assert.ok(tg.callsTo('getMe').length >= 2);
});

test('a dropped connection is retried, and the token never shows in the log', async (t) => {
  const { tg, logs, handled } = await startPoller(t);
  await tg.nextCall('getUpdates');
  tg.fail('getUpdates', { drop: true }, 2);
  tg.dm(alice, 'wakes the poll'); // answers the held poll; the next two are cut off
  await handled.next();
  tg.dm(alice, 'after the drops');
  assert.equal((await handled.next(undefined, 3000)).message?.text, 'after the drops');
  assert.match(logs.received[0]!, /^polling error: network error: .+, retrying in 40ms$/);
  assert.ok(!logs.received.join('\n').includes(tg.token.split(':')[1]!), 'no token in the log');
});

test('an update is confirmed to Telegram only after it was handled', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const started = new Mailbox<Update[]>();
  const { tg, handled } = await startPoller(t, {
    onUpdates: async (updates) => {
      started.push(updates);
      await released;
    },
  });
  tg.dm(alice, 'slow to hand over');
  const [update] = await started.next();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(
    tg.unconfirmed.map((u) => u.update_id),
    [update!.update_id],
    'still unconfirmed while being handled',
  );
  assert.deepEqual(tg.confirmed.received, []);
  release();
  await handled.next();
  await tg.allConfirmed();
  assert.deepEqual(tg.confirmed.received, [update!.update_id]);
});

test('updates whose hand-over failed stay unconfirmed and come again', async (t) => {
  let attempts = 0;
  const { tg, logs, handled } = await startPoller(t, {
    onUpdates: async () => {
      if (++attempts === 1) throw new Error('spool is full');
    },
  });
  const message = tg.dm(alice, 'try again');
  const update = await handled.next();
  assert.equal(update.message?.message_id, message.message_id);
  assert.equal(attempts, 2);
  assert.match(
    logs.received[0]!,
    /^could not hand updates over \(they stay unconfirmed and come again\): spool is full, retrying in 40ms$/,
  );
  await tg.allConfirmed();
});

test('stop() abandons the poll Telegram is holding at once', async (t) => {
  const { tg, poller } = await startPoller(t, { timeoutSeconds: 30 });
  await tg.nextCall('getUpdates', (call) => Number(call.params.timeout) === 30);
  await new Promise((r) => setTimeout(r, 100));
  const stoppedAt = Date.now();
  await poller.stop();
  assert.ok(Date.now() - stoppedAt < 300, `stop took ${Date.now() - stoppedAt} ms`);
});

test('stopped while still preparing, it does not start a poll', async (t) => {
  let stop!: () => Promise<void>;
  const preparing = new Promise<void>((resolve) => (stop = async () => resolve()));
  const { tg, poller } = await startPoller(t, {
    timeoutSeconds: 30,
    // A preparation step that swallows its own abort, as registering commands does.
    afterPrepare: async (signal) => {
      const aborted = new Promise((resolve) => signal.addEventListener('abort', resolve));
      await stop();
      await aborted;
    },
  });
  await preparing;
  const stoppedAt = Date.now();
  await poller.stop();
  assert.ok(Date.now() - stoppedAt < 300, `stop took ${Date.now() - stoppedAt} ms`);
  assert.deepEqual(tg.callsTo('getUpdates'), []);
});

test('a webhook set by someone else is removed again and polling goes on', async (t) => {
  const { tg, logs, handled } = await startPoller(t);
  await tg.nextCall('getUpdates');
  tg.webhookUrl = 'https://example.com/hook';
  tg.dm(alice, 'one');
  await handled.next();
  await logs.next((line) => /409 Conflict .*webhook is active/.test(line));
  tg.dm(alice, 'two');
  assert.equal((await handled.next()).message?.text, 'two');
  assert.equal(tg.webhookUrl, '');
  assert.ok(tg.callsTo('deleteWebhook').length >= 2);
});
