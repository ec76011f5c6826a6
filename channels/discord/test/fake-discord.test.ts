/** The fake's own behaviour where the channel's tests do not reach it: paging, multipart, 429s, auth. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeDiscord } from '@openchannels/testkit';

async function api(dc: FakeDiscord, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${dc.apiRoot}/v10${path}`, { ...init, headers: { authorization: `Bot ${dc.token}`, ...init.headers } });
}

test('message history pages newest first, with before, after and limit', async (t) => {
  const dc = await FakeDiscord.start();
  t.after(() => dc.close());
  const channel = dc.guildChannel('general');
  const user = dc.user('200000000000000111', 'alice');
  const ids = Array.from({ length: 5 }, (_, i) => dc.postOffline(channel, user, `m${i}`).id);
  const contents = async (query: string) =>
    ((await (await api(dc, `/channels/${channel.id}/messages?${query}`)).json()) as Array<{ content: string }>).map((m) => m.content);
  assert.deepEqual(await contents('limit=2'), ['m4', 'm3']);
  assert.deepEqual(await contents(`after=${ids[1]}&limit=2`), ['m3', 'm2']);
  assert.deepEqual(await contents(`before=${ids[3]}&limit=2`), ['m2', 'm1']);
});

test('multipart messages keep their files; 429 carries retry_after; a wrong token gets 401', async (t) => {
  const dc = await FakeDiscord.start();
  t.after(() => dc.close());
  const channel = dc.guildChannel('general');
  const form = new FormData();
  form.append('payload_json', JSON.stringify({ content: 'with a file' }));
  form.append('files[0]', new Blob(['hello']), 'a.txt');
  const sent = (await (await api(dc, `/channels/${channel.id}/messages`, { method: 'POST', body: form })).json()) as {
    attachments: Array<{ filename: string; size: number }>;
  };
  assert.deepEqual(sent.attachments.map((a) => a.filename), ['a.txt']);
  assert.deepEqual(dc.callsTo('POST /channels/:id/messages')[0]!.files, [{ name: 'a.txt', size: 5 }]);
  dc.rateLimitNext('GET /channels/:id', 1.5);
  const limited = await api(dc, `/channels/${channel.id}`);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '1.5');
  assert.equal(((await limited.json()) as { retry_after: number }).retry_after, 1.5);
  const refused = await fetch(`${dc.apiRoot}/v10/channels/${channel.id}`, { headers: { authorization: 'Bot nope' } });
  assert.equal(refused.status, 401);
});
