/** `openchannels run` with the real channels: fakechat in a browser, and the webhook. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, tempStateDir } from '@openchannels/testkit';
import type { Browser, Page } from 'playwright-core';
import { RunSession } from './run-session.js';

let browser: Browser;
const sessions: RunSession[] = [];
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  sessions.forEach((s) => s.kill());
  await browser?.close();
});

/** A session with fakechat opted in, and its page open in the browser. */
async function fakechatSession(): Promise<{ session: RunSession; page: Page }> {
  const session = new RunSession(['--channels', 'plugin:fakechat@openchannels'], {
    env: { FAKECHAT_STATE_DIR: tempStateDir(), FAKECHAT_PORT: '0' },
    servers: {},
  });
  sessions.push(session);
  const [, url] = /listening on (http:\/\/\S+)/.exec(await session.expect(/\[fakechat\] .*listening on http/))!;
  await session.expect(/^· ready/);
  const page = await browser.newPage();
  await page.goto(url!);
  await page.waitForSelector('#status.online');
  return { session, page };
}

async function typeInPage(page: Page, text: string): Promise<void> {
  await page.fill('#composer', text);
  await page.press('#composer', 'Enter');
}

describe('openchannels run with fakechat', () => {
  test('a message typed in the browser reaches the agent as a tag, and its reply appears in the page', async () => {
    const { session, page } = await fakechatSession();
    await typeInPage(page, '!reply hello from the agent');
    const turn = await session.turn(1);
    const tag = turn.blocks.find((b) => b.startsWith('<channel'))!;
    assert.match(tag, /^<channel source="fakechat" chat_id="web" message_id="[^"]+" user="web" ts="[^"]+">\n!reply hello from the agent\n<\/channel>$/);
    assert.equal((turn.actions[0] as { text: string }).text.startsWith('sent ('), true);
    await page.locator('.msg.assistant', { hasText: 'hello from the agent' }).waitFor({ timeout: 5000 });
    await session.expect(/^⚙ fakechat\.reply → sent \(m\d+-1\)$/);
    await page.close();
    await session.quit();
  });

  test('a permission request answered in the page wins', async () => {
    const { session, page } = await fakechatSession();
    session.type('!permission Bash npm test');
    const [, id] = /^⚠ permission ([a-km-z]{5}):/.exec(await session.expect(/^⚠ permission/))!;
    const card = page.locator('.perm', { hasText: 'npm test' });
    await card.locator('button.allow').click();
    await session.expect(new RegExp(`^· ${id} allowed via fakechat$`));
    assert.deepEqual((await session.turn(1)).actions, [{ permission: 'Bash', outcome: 'yes' }]);
    await page.close();
    await session.quit();
  });

  test('a permission request answered at the terminal wins; a later click in the page changes nothing', async () => {
    const { session, page } = await fakechatSession();
    session.type('!permission Bash rm -rf dist');
    const [, id] = /^⚠ permission ([a-km-z]{5}):/.exec(await session.expect(/^⚠ permission/))!;
    const card = page.locator('.perm', { hasText: 'rm -rf dist' });
    await card.waitFor();
    session.type(`no ${id}`);
    await session.expect(new RegExp(`^· ${id} denied via terminal$`));
    assert.deepEqual((await session.turn(1)).actions, [{ permission: 'Bash', outcome: 'no' }]);
    await card.locator('button.allow').click();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(session.lines.received.filter((l) => l.includes(`${id} allowed`)).length, 0);
    assert.equal(session.turns().length, 1);
    await page.close();
    await session.quit();
  });
});

describe('openchannels run with the webhook', () => {
  test('a permission request answered by a verified webhook sender wins', async () => {
    const stateDir = tempStateDir();
    writeFileSync(
      join(stateDir, 'webhook.json'),
      JSON.stringify({ sources: { ops: { path: '/ops', verify: { type: 'bearer', tokenEnv: 'OPS_TOKEN' } } } }),
    );
    writeFileSync(join(stateDir, '.env'), 'OPS_TOKEN=s3cret-token\n');
    const session = new RunSession(['--channels', 'plugin:webhook@openchannels'], {
      env: { WEBHOOK_STATE_DIR: stateDir, WEBHOOK_PORT: '0' },
      servers: {},
    });
    sessions.push(session);
    const [, url] = /listening on (http:\/\/\S+)/.exec(await session.expect(/\[webhook\] .*listening on http/))!;
    await session.expect(/^· ready/);
    // Whoever listens on /events sees the prompt.
    const events = await fetch(`${url}/events`);
    const reader = events.body!.getReader();
    session.type('!permission Bash terraform apply');
    const [, id] = /^⚠ permission ([a-km-z]{5}):/.exec(await session.expect(/^⚠ permission/))!;
    let streamed = '';
    while (!streamed.includes(id!)) streamed += new TextDecoder().decode((await reader.read()).value);
    assert.match(streamed, /event: permission_request/);
    await reader.cancel();
    // An unverified sender's "yes" is just an event, not a verdict.
    const unsigned = await fetch(`${url}/`, { method: 'POST', body: `yes ${id}` });
    assert.equal(unsigned.status, 202);
    const signed = await fetch(`${url}/ops`, {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret-token' },
      body: `yes ${id}`,
    });
    assert.equal(signed.status, 200);
    await session.expect(new RegExp(`^· ${id} allowed via webhook$`));
    assert.deepEqual((await session.turn(1)).actions, [{ permission: 'Bash', outcome: 'yes' }]);
    await session.quit();
  });
});
