/** The fake Bot API answers as Telegram does where a bot can tell the difference. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { FakeTelegram } from '@openchannels/testkit';

const tg = await FakeTelegram.start({ username: 'fake_bot' });
after(() => tg.close());
const call = (method: string, body?: object, token = tg.token) =>
  fetch(`${tg.apiRoot}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });

test('a wrong token gets 401 and an unknown method 404, as JSON', async () => {
  const wrong = await call('getMe', {}, '1:nope');
  assert.equal(wrong.status, 401);
  assert.deepEqual(await wrong.json(), { ok: false, error_code: 401, description: 'Unauthorized' });
  const unknown = await call('getEverything');
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), { ok: false, error_code: 404, description: 'Not Found: method not found' });
  assert.equal((await fetch(`${tg.apiRoot}/file/bot1:nope/photos/x.jpg`)).status, 401);
});

test('getMe answers with the bot; parameters may come in the query string or a form', async () => {
  assert.equal(((await (await call('getMe')).json()) as { result: { username: string } }).result.username, 'fake_bot');
  const user = tg.user(5, 'eve');
  tg.chatWith(user);
  const query = await fetch(`${tg.apiRoot}/bot${tg.token}/sendMessage?chat_id=5&text=from%20the%20query`);
  assert.equal(((await query.json()) as { result: { text: string } }).result.text, 'from the query');
  const form = await fetch(`${tg.apiRoot}/bot${tg.token}/sendMessage`, {
    method: 'POST',
    body: new URLSearchParams({ chat_id: '5', text: 'from a form' }),
  });
  assert.equal(((await form.json()) as { result: { text: string } }).result.text, 'from a form');
});

test('getUpdates holds the poll until an update arrives or the timeout passes, and honours offset and limit', async () => {
  const started = Date.now();
  const empty = (await (await call('getUpdates', { timeout: 1 })).json()) as { result: unknown[] };
  assert.deepEqual(empty.result, []);
  assert.ok(Date.now() - started >= 950, 'held for the timeout');
  const waiting = call('getUpdates', { timeout: 10 });
  await new Promise((r) => setTimeout(r, 50));
  const user = tg.user(6, 'fay');
  const first = tg.dm(user, 'one');
  tg.dm(user, 'two');
  const woken = (await (await waiting).json()) as {
    result: Array<{ update_id: number; message: { message_id: number; text: string } }>;
  };
  assert.equal(woken.result[0]!.message.message_id, first.message_id);
  const limited = (await (await call('getUpdates', { limit: 1 })).json()) as { result: Array<{ update_id: number }> };
  assert.equal(limited.result.length, 1);
  const next = (await (await call('getUpdates', { offset: limited.result[0]!.update_id + 1 })).json()) as {
    result: Array<{ message: { text: string } }>;
  };
  assert.deepEqual(
    next.result.map((u) => u.message.text),
    ['two'],
  );
  assert.ok(tg.confirmed.received.includes(limited.result[0]!.update_id));
});

test('a second poller ends the waiting one with 409, as Telegram does', async () => {
  await call('getUpdates', { offset: 1_000_000 }); // confirms whatever earlier tests left
  const first = call('getUpdates', { timeout: 5 });
  await new Promise((r) => setTimeout(r, 50));
  const second = call('getUpdates', { timeout: 0 });
  const ended = await first;
  assert.equal(ended.status, 409);
  assert.deepEqual(await ended.json(), {
    ok: false,
    error_code: 409,
    description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  });
  assert.equal((await second).status, 200);
});

test('injected faults answer in place of the next calls: 429 carries retry_after', async () => {
  tg.fail('getMe', { status: 429, retryAfter: 3 });
  const limited = await call('getMe');
  assert.equal(limited.status, 429);
  assert.deepEqual(await limited.json(), {
    ok: false,
    error_code: 429,
    description: 'Too Many Requests: retry after 3',
    parameters: { retry_after: 3 },
  });
  assert.equal((await call('getMe')).status, 200);
  tg.fail('getMe', { drop: true });
  await assert.rejects(call('getMe'));
});
