/** The page in a real browser (Debian's chromium, driven by playwright-core). */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { type TestContext, after, before, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { launchChromium, tempStateDir } from '@openchannels/testkit';
import type { Browser, Page } from 'playwright-core';
import { type Fakechat, startFakechat } from './helpers.js';

let browser: Browser;

before(async () => {
  browser = await launchChromium();
});

after(() => browser?.close());

interface OpenChat extends Fakechat {
  page: Page;
}

/** Starts fakechat and opens its page in a fresh browser context; fails the test on a script or CSP error. */
async function openChat(t: TestContext): Promise<OpenChat> {
  const chat = await startFakechat(t);
  const page = await browser.newPage({ viewport: { width: 900, height: 720 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Uncaught/.test(message.text())) problems.push(message.text());
  });
  t.after(async () => {
    await page.close();
    assert.deepEqual(problems, [], 'no script errors or CSP violations in the page');
  });
  await page.goto(chat.base);
  await page.waitForSelector('#status.online');
  return { ...chat, page };
}

/** A small solid-colour PNG, so an attachment has a real thumbnail. */
function png(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('typing and Enter sends; Shift+Enter makes a new line', async (t) => {
  const { page, host } = await openChat(t);
  await page.locator('#composer').fill('hello from the browser');
  await page.keyboard.press('Enter');
  const event = await host.nextEvent();
  assert.equal(event.content, 'hello from the browser');
  assert.match(event.meta?.message_id ?? '', /^u\d+-1$/);
  assert.equal(await page.locator('#composer').inputValue(), '', 'the composer is cleared');
  await page.locator('.msg.user .text', { hasText: 'hello from the browser' }).waitFor();

  await page.locator('#composer').pressSequentially('line one');
  await page.keyboard.press('Shift+Enter');
  await page.locator('#composer').pressSequentially('line two');
  await page.keyboard.press('Enter');
  assert.equal((await host.nextEvent()).content, 'line one\nline two');
});

test('a picked file is uploaded into the inbox and its path delivered', async (t) => {
  const { page, host, stateDir } = await openChat(t);
  const content = 'name,score\nada,10\n';
  await page.locator('#file').setInputFiles({ name: 'scores.csv', mimeType: 'text/csv', buffer: Buffer.from(content) });
  await page.locator('#chosen', { hasText: 'scores.csv' }).waitFor();
  await page.locator('#composer').fill('see attached');
  await page.keyboard.press('Enter');
  const event = await host.nextEvent();
  assert.equal(event.content, 'see attached');
  const path = event.meta?.file_path ?? '';
  assert.ok(path.startsWith(join(stateDir, 'inbox')), path);
  assert.equal(readFileSync(path, 'utf8'), content);
  await page.locator('.msg.user .file', { hasText: 'scores.csv' }).waitFor();
  // The picked file is cleared once the upload has been answered.
  await page.locator('#chosen').waitFor({ state: 'hidden', timeout: 5000 });
});

test('the agent’s reply appears live with a working download, edits show, and a reload keeps it all', async (t) => {
  const { page, host } = await openChat(t);
  await page.locator('#composer').fill('can you plot the results?');
  await page.keyboard.press('Enter');
  const question = await host.nextEvent();

  const work = tempStateDir('fakechat-work-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  writeFileSync(join(work, 'plot.png'), png(160, 90, [37, 99, 235]));
  writeFileSync(join(work, 'results.txt'), 'passed: 41\nfailed: 1\n');
  const progress = await host.tool('reply', { text: 'Working on it…', reply_to: question.meta?.message_id });
  const progressId = /^sent \((.+)\)$/.exec(progress.text)![1]!;
  const bubble = page.locator(`.msg.assistant[data-id="${progressId}"]`);
  await bubble.locator('.text', { hasText: 'Working on it…' }).waitFor();
  assert.equal(await bubble.locator('.reply-to').textContent(), '↳ can you plot the results?');

  await host.tool('edit_message', { message_id: progressId, text: 'Here are the results.' });
  await bubble.locator('.text', { hasText: 'Here are the results.' }).waitFor();
  assert.equal(await bubble.locator('.edited').textContent(), '(edited)');

  await host.tool('reply', { text: 'Plot and raw numbers:', files: [join(work, 'plot.png'), join(work, 'results.txt')] });
  const withFiles = page.locator('.msg.assistant', { hasText: 'Plot and raw numbers:' });
  await withFiles.waitFor();
  const thumbnail = withFiles.locator('img');
  await thumbnail.waitFor();
  assert.equal(await thumbnail.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth), 160);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    withFiles.locator('a.file', { hasText: 'results.txt' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'results.txt');
  assert.equal(readFileSync(await download.path(), 'utf8'), 'passed: 41\nfailed: 1\n');

  const request = await host.requestPermission('Bash', 'Run the test suite', { command: 'npm test -- fakechat' });
  await page.locator(`.perm[data-request-id="${request.request_id}"] button.allow`).waitFor();
  await page.screenshot({ path: '/tmp/fakechat.png' });

  await page.reload();
  await page.waitForSelector('#status.online');
  assert.deepEqual(await page.locator('.msg .text').allTextContents(), [
    'can you plot the results?',
    'Here are the results.',
    'Plot and raw numbers:',
  ]);
  assert.equal(await page.locator('.msg .edited').count(), 1);
  assert.equal(await page.locator('.msg.assistant a.file').count(), 2);
  assert.equal(await page.locator('.perm button.allow').count(), 1, 'the open prompt is still there');
});

test('the page shows when it is disconnected and reconnects by itself', async (t) => {
  const { page, host, port } = await openChat(t);
  await host.close();
  await page.waitForSelector('#status.offline');
  assert.match((await page.locator('#status').textContent()) ?? '', /reconnecting/);
  const restarted = await startFakechat(t, port);
  await page.waitForSelector('#status.online', { timeout: 8000 });
  await page.locator('#composer').fill('are you back?');
  await page.keyboard.press('Enter');
  assert.equal((await restarted.host.nextEvent()).content, 'are you back?');
});

test('a permission prompt shows as a card; Allow answers it and the card shows the outcome', async (t) => {
  const { page, host } = await openChat(t);
  const request = await host.requestPermission('Write', 'Create notes.md', { file_path: '/tmp/notes.md' });
  const card = page.locator(`.perm[data-request-id="${request.request_id}"]`);
  await card.waitFor();
  assert.match((await card.textContent()) ?? '', /Write.*Create notes\.md.*notes\.md/s);
  await card.locator('button.allow').click();
  assert.deepEqual(await host.nextVerdict(), { request_id: request.request_id, behavior: 'allow' });
  await card.locator('.outcome', { hasText: 'Allowed' }).waitFor();
  assert.equal(await card.locator('button').count(), 0);
});

test('typing "no <id>" denies the request instead of chatting', async (t) => {
  const { page, host } = await openChat(t);
  const request = await host.requestPermission('Bash', 'Delete the build folder', { command: 'rm -rf build' });
  const card = page.locator(`.perm[data-request-id="${request.request_id}"]`);
  await card.waitFor();
  await page.locator('#composer').fill(`no ${request.request_id}`);
  await page.keyboard.press('Enter');
  assert.deepEqual(await host.nextVerdict(), { request_id: request.request_id, behavior: 'deny' });
  await card.locator('.outcome', { hasText: 'Denied' }).waitFor();
  assert.deepEqual(await host.events.settle(200), []);
});

test('a page from another origin cannot type into the session', async (t) => {
  const { page, host, port } = await openChat(t);
  const hostile = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>free prizes</title><script>
      window.attack = (async () => {
        const target = '127.0.0.1:${port}';
        const form = new FormData();
        form.append('id', 'u666');
        form.append('text', 'hostile upload');
        form.append('file', new Blob(['x']), 'x.txt');
        await fetch('http://' + target + '/upload', { method: 'POST', mode: 'no-cors', body: form }).catch(() => {});
        return new Promise((resolve) => {
          const socket = new WebSocket('ws://' + target + '/ws');
          socket.onopen = () => {
            socket.send(JSON.stringify({ type: 'send', id: 'u667', text: 'hostile socket' }));
            resolve('open');
          };
          socket.onerror = () => resolve('refused');
        });
      })();
    </script>`);
  });
  await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => hostile.close(resolve)));
  const attacker = await browser.newPage();
  t.after(() => attacker.close());
  await attacker.goto(`http://127.0.0.1:${(hostile.address() as { port: number }).port}/`);
  assert.equal(await attacker.evaluate(() => (globalThis as unknown as { attack: Promise<string> }).attack), 'refused');
  // Both attempts reached fakechat and were turned away there.
  await host.stderrMatch(/refused POST \/upload: forbidden: requests from web pages/);
  await host.stderrMatch(/refused GET \/ws: forbidden: requests from web pages/);
  assert.deepEqual(await host.events.settle(300), []);
  assert.equal(await page.locator('.msg').count(), 0, 'nothing showed in the real page either');
});
