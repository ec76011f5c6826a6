import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TerminalProcess, repoRoot, tempStateDir } from '@openchannels/testkit';

const cli = join(repoRoot, 'packages/host/bin/openchannels.js');
const fixture = join(repoRoot, 'packages/testkit/dist/src/fixture-channel.js');

/** The console as a user runs it, with its terminal replaced by pipes. */
class ConsoleSession extends TerminalProcess {
  constructor(args: string[], env: Record<string, string> = {}) {
    super(process.execPath, [cli, 'console', ...args], { env });
  }

  /** The fixture channel's record of what it was asked to do. */
  async recorded(): Promise<Array<Record<string, string>>> {
    this.type('/call recorded');
    const line = await this.expect(/^→ recorded: /);
    return JSON.parse(line.replace(/^→ recorded: /, '')) as Array<Record<string, string>>;
  }
}

const sessions: ConsoleSession[] = [];
const openFixture = (name = 'alerts', env: Record<string, string> = {}) => {
  const session = new ConsoleSession(['--name', name, '--', process.execPath, fixture, name], env);
  sessions.push(session);
  return session;
};
after(() => sessions.forEach((s) => s.kill()));

describe('openchannels console', () => {
  test('prints each event as the agent sees it: host rules applied to meta and content', async () => {
    const session = openFixture();
    await session.expect(/alerts connected · channel: yes · permission relay: yes · tools: reply, emit, verdict, recorded/);
    session.type('/call emit {"content":"disk full </channel> on db1","meta":{"chat_id":"c1","bad-key":"x","level":3,"note":"a \\"quoted\\" <b>"}}');
    const opening = await session.expect(/^<channel /);
    assert.equal(opening, '<channel source="alerts" chat_id="c1" level="3" note="a &quot;quoted&quot; &lt;b&gt;">');
    assert.equal(await session.lines.next(), 'disk full <\\/channel> on db1');
    assert.equal(await session.lines.next(), '</channel>');
    assert.equal(await session.end(), 0);
  });

  test('plain text replies to the chat of the last event through the reply tool', async () => {
    const session = openFixture();
    session.type('hello before any event');
    await session.expect(/no chat yet/);
    session.type('/call emit {"content":"ping","meta":{"chat_id":"room-7"}}');
    await session.expect(/^ping$/);
    session.type('pong from the terminal');
    await session.expect(/^→ reply: sent \(id: r1\)$/);
    const recorded = await session.recorded();
    assert.deepEqual(recorded, [{ kind: 'reply', chat_id: 'room-7', text: 'pong from the terminal' }]);
    await session.end();
  });

  test('a permission request reaches the channel, and the first answer (remote) wins', async () => {
    const session = openFixture();
    session.type('/perm Bash {"command":"rm -rf build"}');
    const [, id] = /permission request ([a-km-z]{5}):/.exec(await session.expect(/permission request [a-km-z]{5}:/))!;
    const request = (await session.recorded()).find((r) => r.kind === 'permission_request');
    assert.deepEqual(request, {
      kind: 'permission_request',
      request_id: id,
      tool_name: 'Bash',
      description: 'Bash {"command":"rm -rf build"}',
      input_preview: '{"command":"rm -rf build"}',
    });
    session.type(`/call verdict {"request_id":"${id}","behavior":"allow"}`);
    await session.expect(new RegExp(`${id} allowed via alerts`));
    session.type(`no ${id}`);
    await session.expect(new RegExp(`no open permission request ${id}`));
    await session.end();
  });

  test('an answer typed at the terminal wins, and a later remote verdict is ignored', async () => {
    const session = openFixture();
    session.type('/perm Write notes.md');
    const [, id] = /permission request ([a-km-z]{5}):/.exec(await session.expect(/permission request [a-km-z]{5}:/))!;
    session.type(`  NO ${id.toUpperCase()} `);
    await session.expect(new RegExp(`${id} denied via terminal`));
    session.type(`/call verdict {"request_id":"${id}","behavior":"allow"}`);
    await session.expect(new RegExp(`verdict for ${id} ignored: no open request`));
    await session.end();
  });

  test('a channel without permission relay is told nothing; the terminal still answers', async () => {
    const session = openFixture('quiet', { FIXTURE_NO_PERMISSION: '1' });
    await session.expect(/permission relay: no/);
    session.type('/perm Bash ls');
    const line = await session.expect(/answer here with/);
    assert.doesNotMatch(line, /or from quiet/);
    assert.deepEqual(await session.recorded(), []);
    await session.end();
  });

  test('bad input gets a clear answer and the console keeps going', async () => {
    const session = openFixture();
    session.type('/call emit {not json');
    await session.expect(/arguments are not valid JSON/);
    session.type('/call emit [1]');
    await session.expect(/arguments must be a JSON object/);
    session.type('/call reply {"chat_id":5}');
    await session.expect(/^✗ reply: reply failed: invalid arguments: chat_id: .*; text: /);
    session.type('/call nope {}');
    await session.expect(/^✗ nope: unknown tool: nope$/);
    session.type('/frobnicate');
    await session.expect(/unknown command \/frobnicate/);
    session.type('yes abcde');
    await session.expect(/no open permission request abcde/);
    session.type('/call emit {"content":"still here"}');
    await session.expect(/^still here$/);
    assert.equal(await session.end(), 0);
  });

  test('opens a plugin of the marketplace by name, as Claude Code would start it', async () => {
    const session = new ConsoleSession(['webhook'], { WEBHOOK_STATE_DIR: tempStateDir(), WEBHOOK_PORT: '0' });
    sessions.push(session);
    const [, url] = /listening on (http:\/\/\S+)/.exec(await session.expect(/listening on http:\/\/\S+/))!;
    await session.expect(/webhook connected · channel: yes/);
    const response = await fetch(`${url}/`, { method: 'POST', body: 'build failed on main' });
    assert.ok(response.ok, `POST answered ${response.status}`);
    const opening = await session.expect(/^<channel source="webhook"/);
    assert.match(opening, / path="\/"/);
    assert.match(opening, / method="POST"/);
    assert.equal(await session.lines.next(), 'build failed on main');
    assert.equal(await session.end(), 0);
  });

  test('an unknown plugin name is an error listing the plugins there are', async () => {
    const session = new ConsoleSession(['nosuch']);
    sessions.push(session);
    await session.expect(/no plugin named nosuch in marketplace openchannels \(it has: fakechat, webhook, telegram, discord\)/);
    assert.equal(await session.exited, 2);
  });

  test('a channel that fails to start is reported with its own error output', async () => {
    const session = new ConsoleSession([
      '--',
      process.execPath,
      '-e',
      'console.error("fatal: TOKEN required"); process.exit(1)',
    ]);
    sessions.push(session);
    await session.expect(/channel channel did not start/);
    await session.expect(/fatal: TOKEN required/);
    assert.equal(await session.exited, 1);
  });
});
