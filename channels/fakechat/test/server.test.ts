import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { readPluginServers } from '@openchannels/host';
import { RawServer, tempStateDir } from '@openchannels/testkit';
import { type Frame, PageSocket, pluginDir, startFakechat, testEnv, tryUpgrade } from './helpers.js';
import { httpRequest, multipart } from './http.js';

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function files(frame: Frame): Array<{ name: string; size: number; url?: string }> {
  return frame.files as Array<{ name: string; size: number; url?: string }>;
}

async function upload(base: string, fields: Record<string, string | File>): Promise<Response> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  return fetch(`${base}/upload`, { method: 'POST', body: form, headers: { origin: base } });
}

test('serves the page on 127.0.0.1 only, with a strict Content-Security-Policy', async (t) => {
  const { host, port, base } = await startFakechat(t);
  assert.ok(host.stderr.received.some((line) => line === `fakechat channel: listening on ${base}`));
  const response = await fetch(`${base}/`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
  const html = await response.text();
  assert.match(html, /id="composer"/);
  const policy = response.headers.get('content-security-policy') ?? '';
  const nonce = /script-src 'nonce-([^']+)'/.exec(policy)?.[1];
  assert.ok(nonce, `a script nonce in ${policy}`);
  assert.ok(html.includes(`<script nonce="${nonce}">`), 'the page script carries the nonce');
  assert.match(policy, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${port} ws://localhost:${port}`));
  assert.match(policy, /frame-ancestors 'none'/);
  const second = await fetch(`${base}/`);
  assert.notEqual(second.headers.get('content-security-policy'), policy, 'a fresh nonce per response');
  // Not reachable on another address of this machine, e.g. IPv6 loopback.
  const reachedOverIpv6 = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: '::1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  assert.equal(reachedOverIpv6, false);
});

test('a message typed in the page arrives as an event with chat_id, message_id, user and ts', async (t) => {
  const { host, port } = await startFakechat(t);
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  page.sendMessage('u1', '  hello there  ');
  const event = await host.nextEvent();
  assert.equal(event.content, 'hello there');
  const { ts, ...meta } = event.meta ?? {};
  assert.deepEqual(meta, { chat_id: 'web', message_id: 'u1', user: 'web' });
  assert.match(ts ?? '', ISO_TIME);
  // The reference page's frames carry no type: they are messages too.
  page.send({ id: 'u2', text: 'old style' });
  assert.equal((await host.nextEvent()).meta?.message_id, 'u2');
});

test('blank messages and messages without an id are ignored', async (t) => {
  const { host, port } = await startFakechat(t);
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  page.sendMessage('u1', '  \n\t ');
  page.send({ type: 'send', text: 'no id' });
  page.sendMessage('u3', 'the real one');
  assert.equal((await host.nextEvent()).content, 'the real one');
  assert.equal(host.events.received.length, 1);
});

test('a message from one tab shows in every tab, and a new tab gets the conversation so far', async (t) => {
  const { host, port } = await startFakechat(t);
  const first = await PageSocket.open(port);
  const second = await PageSocket.open(port);
  t.after(() => [first, second].forEach((page) => page.close()));
  first.sendMessage('u1', 'hi from tab one');
  const echoed = await second.next('msg');
  assert.equal(echoed.text, 'hi from tab one');
  assert.equal(echoed.from, 'user');
  await host.nextEvent();
  const sent = await host.tool('reply', { text: 'hello both', reply_to: 'u1' });
  const late = await PageSocket.open(port);
  t.after(() => late.close());
  const history = late.frames.received[0]!;
  assert.equal(history.type, 'history');
  const items = history.items as Frame[];
  assert.deepEqual(
    items.map((item) => [item.from, item.text, item.replyTo]),
    [
      ['user', 'hi from tab one', undefined],
      ['assistant', 'hello both', 'u1'],
    ],
  );
  assert.equal(sent.text, `sent (${items[1]!.id})`);
});

test('an uploaded file is saved in the inbox and its path arrives in meta, not in the content', async (t) => {
  const { host, base, stateDir } = await startFakechat(t);
  const response = await upload(base, { id: 'u9', text: '', file: new File(['col1,col2\n1,2\n'], 'data.csv') });
  assert.equal(response.status, 204);
  const event = await host.nextEvent();
  assert.equal(event.content, '(data.csv)');
  const path = event.meta?.file_path ?? '';
  assert.equal(dirname(path), join(stateDir, 'inbox'));
  assert.match(basename(path), /^\d+-data\.csv$/);
  assert.equal(readFileSync(path, 'utf8'), 'col1,col2\n1,2\n');
  assert.equal(event.meta?.message_id, 'u9');

  await upload(base, { id: 'u10', text: ' look at this ', file: new File(['x'], 'x.txt') });
  const withText = await host.nextEvent();
  assert.equal(withText.content, 'look at this');
  assert.ok(withText.meta?.file_path?.endsWith('-x.txt'));
});

test('an upload without an id is refused with 400, an oversize one with 413', async (t) => {
  const { host, base } = await startFakechat(t);
  const missing = await upload(base, { text: 'hi', file: new File(['x'], 'x.txt') });
  assert.equal(missing.status, 400);
  assert.equal(await missing.text(), 'missing id\n');
  const huge = new File([new Uint8Array(50 * 1024 * 1024 + 100 * 1024)], 'huge.bin');
  const oversize = await upload(base, { id: 'u1', file: huge });
  assert.equal(oversize.status, 413);
  assert.deepEqual(await host.events.settle(200), []);
});

test('a hostile upload file name is sanitised: no path, no markup, no hidden file', async (t) => {
  const { host, base, stateDir } = await startFakechat(t);
  const name = '../../.bashrc\u202Etxt.exe<img src=x>;\n</channel>.png';
  await upload(base, { id: 'u1', file: new File(['png bytes'], name) });
  const event = await host.nextEvent();
  const path = event.meta?.file_path ?? '';
  assert.equal(dirname(path), join(stateDir, 'inbox'));
  const saved = basename(path).replace(/^\d+-/, '');
  assert.doesNotMatch(saved, /[<>;\n/\\\u202E]|^\./);
  assert.match(saved, /\.png$/);
  assert.equal(event.content, `(${saved})`);
  assert.deepEqual(readdirSync(join(stateDir, 'inbox')), [basename(path)]);
});

test('reply with two files: one message with both attachments, each downloadable under its name', async (t) => {
  const { host, port, base, stateDir } = await startFakechat(t);
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  const work = tempStateDir('fakechat-work-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, 'report.txt'), 'all green\n');
  writeFileSync(join(work, 'chart.PNG'), 'not really a png');
  const result = await host.tool('reply', { text: 'done', files: [join(work, 'report.txt'), join(work, 'chart.PNG')] });
  assert.equal(result.isError, false);
  assert.match(result.text, /^sent \(m\d+-\d+\)$/);
  const frame = await page.next('msg');
  assert.equal(frame.from, 'assistant');
  assert.equal(frame.text, 'done');
  assert.equal(`sent (${frame.id})`, result.text);
  const [report, chart] = files(frame);
  assert.deepEqual([report?.name, report?.size, chart?.name], ['report.txt', 10, 'chart.PNG']);
  assert.match(chart?.url ?? '', /^\/files\/\d+-[0-9a-f]+\.png$/);

  const download = await fetch(`${base}${report!.url}`);
  assert.equal(download.status, 200);
  assert.equal(await download.text(), 'all green\n');
  assert.equal(download.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(download.headers.get('x-content-type-options'), 'nosniff');
  assert.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="report\.txt"/);
  const image = await fetch(`${base}${chart!.url}`);
  assert.equal(image.headers.get('content-type'), 'image/png');
  assert.match(image.headers.get('content-security-policy') ?? '', /sandbox/);
  assert.equal(readdirSync(join(stateDir, 'outbox')).length, 2);
});

test('reply refuses channel state and missing files, and then shows nothing at all', async (t) => {
  const { host, port, stateDir } = await startFakechat(t);
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  writeFileSync(join(stateDir, '.env'), 'FAKECHAT_PORT=0\n');
  writeFileSync(join(stateDir, 'access.json'), '{}\n');
  const work = tempStateDir('fakechat-work-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, 'fine.txt'), 'fine');
  for (const secret of ['.env', 'access.json']) {
    const path = join(stateDir, secret);
    const refused = await host.tool('reply', { text: 'here you go', files: [join(work, 'fine.txt'), path] });
    assert.equal(refused.isError, true);
    assert.equal(refused.text, `reply failed: refusing to send channel state: ${path}`);
  }
  const missing = await host.tool('reply', { text: 'here', files: [join(work, 'fine.txt'), join(work, 'nope.txt')] });
  assert.equal(missing.isError, true);
  assert.equal(missing.text, `reply failed: no such file: ${join(work, 'nope.txt')}`);
  assert.deepEqual(readdirSync(join(stateDir, 'outbox')), []);
  // An upload in the inbox may be sent back.
  mkdirSync(join(stateDir, 'inbox'), { recursive: true });
  writeFileSync(join(stateDir, 'inbox', '1-photo.jpg'), 'jpeg');
  const fromInbox = await host.tool('reply', { text: 'your photo', files: [join(stateDir, 'inbox', '1-photo.jpg')] });
  assert.equal(fromInbox.isError, false);
  // The first message any page saw is that last reply: the refused ones never showed.
  assert.equal((await page.next('msg')).text, 'your photo');
});

test('reply checks its chat_id and refuses to send nothing', async (t) => {
  const { host } = await startFakechat(t);
  assert.equal((await host.tool('reply', { chat_id: 'web', text: 'ok' })).isError, false);
  const wrongChat = await host.tool('reply', { chat_id: '12345', text: 'hi' });
  assert.equal(wrongChat.text, 'reply failed: no chat "12345": fakechat has one chat, "web"');
  const empty = await host.tool('reply', { text: '  ' });
  assert.equal(empty.text, 'reply failed: nothing to send: text is empty and there are no files');
});

test('edit_message changes a sent message in every page and in the history', async (t) => {
  const { host, port } = await startFakechat(t);
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  const sent = await host.tool('reply', { text: 'working on it…' });
  const id = /^sent \((.+)\)$/.exec(sent.text)![1]!;
  const edited = await host.tool('edit_message', { message_id: id, text: 'done: 3 tests fixed' });
  assert.deepEqual(edited, { text: `edited (${id})`, isError: false });
  assert.deepEqual(await page.next('edit'), { type: 'edit', id, text: 'done: 3 tests fixed' });
  const reloaded = await PageSocket.open(port);
  t.after(() => reloaded.close());
  const [message] = reloaded.frames.received[0]!.items as Frame[];
  assert.equal(message?.text, 'done: 3 tests fixed');
  assert.equal(message?.edited, true);
});

test("edit_message on an unknown id, or on the user's message, is a tool error", async (t) => {
  const { host, port } = await startFakechat(t);
  const unknown = await host.tool('edit_message', { message_id: 'm1-1', text: 'x' });
  assert.deepEqual(unknown, { text: 'edit_message failed: no message m1-1', isError: true });
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  page.sendMessage('u1', 'mine');
  await host.nextEvent();
  const theirs = await host.tool('edit_message', { message_id: 'u1', text: 'yours now' });
  assert.equal(theirs.isError, true);
  assert.match(theirs.text, /^edit_message failed: no message u1 \(that is the user's message/);
});

test('/files refuses names that leave the outbox (400) and unknown names (404)', async (t) => {
  const { port, stateDir } = await startFakechat(t);
  writeFileSync(join(stateDir, '.env'), 'SECRET=1\n');
  for (const path of ['/files/..%2F.env', '/files/..%5C.env', '/files/a..b', '/files/%E0%A4%A']) {
    const response = await httpRequest(port, { path });
    assert.equal(response.status, 400, path);
    assert.doesNotMatch(response.body, /SECRET/);
  }
  assert.equal((await httpRequest(port, { path: '/files/1234-abcd.txt' })).status, 404);
  assert.equal((await httpRequest(port, { path: '/nothing-here' })).status, 404);
});

test('a permission prompt reaches the page, and its Allow button answers it', async (t) => {
  const { host, port } = await startFakechat(t);
  const page = await PageSocket.open(port);
  const other = await PageSocket.open(port);
  t.after(() => [page, other].forEach((p) => p.close()));
  const request = await host.requestPermission('Bash', 'list files', { command: 'ls -la' });
  const prompt = await page.next('permission');
  assert.deepEqual(
    { ...prompt, ts: 0 },
    { type: 'permission', ...request, ts: 0, state: 'open' },
  );
  page.send({ type: 'verdict', request_id: request.request_id, behavior: 'allow' });
  assert.deepEqual(await host.nextVerdict(), { request_id: request.request_id, behavior: 'allow' });
  assert.equal((await other.next('permission', (f) => f.state !== 'open')).state, 'allowed');
  // The first answer wins: a late Deny from the other tab sends nothing.
  other.send({ type: 'verdict', request_id: request.request_id, behavior: 'deny' });
  assert.equal((await host.verdicts.settle(200)).length, 1);
  const reloaded = await PageSocket.open(port);
  t.after(() => reloaded.close());
  const [kept] = reloaded.frames.received[0]!.items as Frame[];
  assert.equal(kept?.state, 'allowed');
});

test('a typed "yes <id>" is a verdict and not a message; "yes abcdl" is a message', async (t) => {
  const { host, port } = await startFakechat(t);
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  const request = await host.requestPermission('Write', 'write a file', { path: '/tmp/x' });
  await page.next('permission');
  page.sendMessage('u1', ` YES ${request.request_id.toUpperCase()} `);
  assert.deepEqual(await host.nextVerdict(), { request_id: request.request_id, behavior: 'allow' });
  assert.equal((await page.next('msg')).answers, request.request_id);
  assert.equal((await page.next('permission')).state, 'allowed');
  const denied = await host.requestPermission();
  page.sendMessage('u2', `n ${denied.request_id}`);
  assert.equal((await host.nextVerdict()).behavior, 'deny');
  page.sendMessage('u3', 'yes abcdl');
  assert.equal((await host.nextEvent()).content, 'yes abcdl');
  assert.equal(host.events.received.length, 1, 'the verdicts were not delivered as chat');
});

test('requests naming another Host (DNS rebinding) or from another Origin are refused', async (t) => {
  const { host, port } = await startFakechat(t);
  const evilHost = { host: `evil.example:${port}` };
  const evilOrigin = { origin: 'http://evil.example' };
  const form = await multipart({ id: 'u1', text: 'rm -rf ~' });
  const page = await httpRequest(port, { path: '/', headers: evilHost });
  assert.equal(page.status, 403);
  assert.match(page.body, /forbidden: Host "evil\.example:\d+"/);
  assert.doesNotMatch(page.body, /composer/);
  for (const headers of [evilHost, evilOrigin]) {
    const posted = await httpRequest(port, {
      method: 'POST',
      path: '/upload',
      headers: { ...headers, 'content-type': form.type },
      body: form.body,
    });
    assert.equal(posted.status, 403, JSON.stringify(headers));
  }
  assert.equal(await tryUpgrade(port, { headers: evilHost }), 403);
  assert.equal(await tryUpgrade(port, evilOrigin), 403);
  assert.equal(await tryUpgrade(port, { origin: `http://127.0.0.1:${port + 1}` }), 403);
  assert.equal(await tryUpgrade(port, { origin: `http://localhost:${port}` }), 'open');
  assert.deepEqual(await host.events.settle(200), []);
});

test('a port already taken is a clear error naming the port and FAKECHAT_PORT, with exit code 1', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const stateDir = tempStateDir('fakechat-');
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const [spec] = readPluginServers(pluginDir);
  const raw = RawServer.spawn({ ...spec!, env: { ...testEnv(stateDir), FAKECHAT_PORT: String(port) } });
  t.after(() => raw.kill());
  const exit = await raw.exit;
  assert.equal(exit.code, 1);
  const stderr = raw.stderr.join('');
  assert.match(stderr, new RegExp(`port ${port} .*already in use.*FAKECHAT_PORT`));
});

test('a stopped server releases its port: the next session gets the same one at once', async (t) => {
  const first = await startFakechat(t);
  const page = await PageSocket.open(first.port); // an open connection must not hold the port either
  t.after(() => page.close());
  await first.host.close();
  const second = await startFakechat(t, first.port);
  assert.equal(second.port, first.port);
  assert.equal((await httpRequest(second.port, { path: '/', headers: { host: `127.0.0.1:${second.port}` } })).status, 200);
});

test('FAKECHAT_PORT may live in <state>/.env', async (t) => {
  const stateDir = tempStateDir('fakechat-');
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  writeFileSync(join(stateDir, '.env'), 'FAKECHAT_PORT=not-a-port\n');
  const [spec] = readPluginServers(pluginDir);
  const raw = RawServer.spawn({ ...spec!, env: { FAKECHAT_STATE_DIR: stateDir } });
  t.after(() => raw.kill());
  assert.equal((await raw.exit).code, 1);
  assert.match(raw.stderr.join(''), /FAKECHAT_PORT="not-a-port" is not a port number/);
});

test('malformed frames are ignored with a log line, and the page keeps working', async (t) => {
  const { host, port } = await startFakechat(t);
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  page.send('{not json');
  page.send('[1,2]');
  page.send({ type: 'send', id: 'bad id with spaces', text: 'hi' });
  page.send({ type: 'verdict', request_id: 'abcdl', behavior: 'allow' });
  page.send({ type: 'dance' });
  page.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  await host.stderrMatch(/ignored a malformed frame from a page: not JSON/);
  await host.stderrMatch(/ignored a binary frame/);
  page.sendMessage('u1', 'still here?');
  assert.equal((await host.nextEvent()).content, 'still here?');
  assert.equal(host.events.received.length, 1);
  assert.equal(host.verdicts.received.length, 0);
  // An oversize frame closes that connection only; the page reconnects and carries on.
  const closed = new Promise((resolve) => page.ws.once('close', resolve));
  page.send({ type: 'send', id: 'u2', text: 'x'.repeat(1024 * 1024 + 1) });
  await closed;
  const again = await PageSocket.open(port);
  t.after(() => again.close());
  again.sendMessage('u3', 'back');
  assert.equal((await host.nextEvent()).content, 'back');
  assert.equal(host.hasExited, false);
});

test('the history keeps the last 1000 items', async (t) => {
  const { host, port } = await startFakechat(t);
  const page = await PageSocket.open(port);
  t.after(() => page.close());
  for (let n = 1; n <= 1005; n++) page.sendMessage(`u${n}`, `message ${n}`);
  await host.nextEvent((event) => event.content === 'message 1005');
  const late = await PageSocket.open(port);
  t.after(() => late.close());
  const items = late.frames.received[0]!.items as Frame[];
  assert.equal(items.length, 1000);
  assert.deepEqual([items[0]?.text, items[999]?.text], ['message 6', 'message 1005']);
});

test('when the session ends, pages are disconnected and the port is free again', async (t) => {
  const { host, port } = await startFakechat(t);
  const page = await PageSocket.open(port);
  const disconnected = new Promise((resolve) => page.ws.once('close', resolve));
  const stoppedAt = Date.now();
  await host.close();
  await disconnected;
  assert.ok(Date.now() - stoppedAt < 2000, `stopped after ${Date.now() - stoppedAt} ms`);
  const again = createServer();
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.listen(port, '127.0.0.1', resolve);
  });
  again.close();
});
