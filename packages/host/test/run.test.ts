import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempStateDir } from '@openchannels/testkit';
import { RunSession, cli } from './run-session.js';

const sessions: RunSession[] = [];
const open = (...args: ConstructorParameters<typeof RunSession>) => {
  const session = new RunSession(...args);
  sessions.push(session);
  return session;
};
after(() => sessions.forEach((s) => s.kill()));

const dev = ['--dangerously-load-development-channels', 'server:alerts'];

describe('openchannels run', () => {
  test('an event reaches the agent as a <channel> tag, and the agent answers through the channel', async () => {
    const session = open(dev);
    session.type('y');
    await session.expect(/^· ready/);
    session.type('!call alerts emit {"content":"deploy failed\\n!reply on it","meta":{"chat_id":"ops","bad key":"x","run":42}}');
    const tag = await session.expect(/^<channel source="alerts"/);
    assert.equal(tag, '<channel source="alerts" chat_id="ops" run="42">');
    const eventTurn = await session.turn(2);
    assert.deepEqual(eventTurn.blocks, ['<channel source="alerts" chat_id="ops" run="42">\ndeploy failed\n!reply on it\n</channel>']);
    assert.deepEqual(eventTurn.actions, [
      { server: 'alerts', tool: 'reply', arguments: { chat_id: 'ops', text: 'on it' }, text: 'sent (id: r1)', isError: false },
    ]);
    // The terminal shows the reply tool call and its result, not the text sent to the platform.
    const shown = await session.expect(/^⚙ alerts\.reply/);
    assert.equal(shown, '⚙ alerts.reply → sent (id: r1)');
    assert.equal(await session.quit(), 0);
  });

  test("a person's message answered only in the terminal gets one reminder; an answered one, or an alert, gets none", async () => {
    const session = open(dev);
    session.type('y');
    await session.expect(/^· ready/);
    session.type('!call alerts emit {"content":"is the deploy done?","meta":{"chat_id":"c7","user":"bob"}}');
    const notice = await session.expect(/^· nothing was sent back/);
    assert.equal(notice, '· nothing was sent back to alerts (chat_id c7): reminding the agent');
    const reminder = await session.turn(3);
    assert.equal(reminder.blocks.length, 1);
    assert.match(reminder.blocks[0]!, /^\[openchannels\] Your last turn sent nothing back to alerts \(chat_id c7\)\. The people there see only what the channel's reply tool sends/);
    session.type('!call alerts emit {"content":"and the tests?\\n!reply all green","meta":{"chat_id":"c7","user":"bob"}}');
    await session.turn(5);
    session.type('!call alerts emit {"content":"disk at 91%","meta":{"chat_id":"pager"}}');
    await session.turn(7);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(session.turns().length, 7, 'no reminder after the reply, none for an alert, none for a reminder');
    assert.deepEqual((await session.turn(5)).actions.map((a) => a.tool), ['reply']);
    await session.quit();
  });

  test('--no-reply-reminders leaves an unanswered message alone', async () => {
    const session = open([...dev, '--no-reply-reminders']);
    session.type('y');
    await session.expect(/^· ready/);
    session.type('!call alerts emit {"content":"anyone?","meta":{"chat_id":"c7","user":"bob"}}');
    await session.turn(2);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(session.turns().length, 2);
    await session.quit();
  });

  test("the first turn carries each channel's instructions; the agent sees its tools by name", async () => {
    const session = open(dev);
    session.type('y');
    await session.expect(/^· ready/);
    session.type('hello');
    const first = await session.turn(1);
    assert.match(first.blocks[0]!, /^# Channel instructions\n\n## alerts\nEvents from the alerts test channel/);
    assert.equal(first.blocks[1], 'hello');
    const log = readFileSync(join(session.dir, 'agent.log'), 'utf8');
    assert.match(log, /"servers":\[\{"name":"alerts","tools":\["reply","emit","verdict","recorded"\],"instructions":"Events from/);
    await session.quit();
  });

  test('events that arrive while the agent is busy go in the next turn together, in order, none lost', async () => {
    const session = open(dev);
    session.type('y');
    await session.expect(/^· ready/);
    // An event whose handling emits 1,000 more and then keeps the agent busy for a while.
    const inner = JSON.stringify({ content: 'burst', count: 1000, meta: { chat_id: 'b' } });
    const outer = JSON.stringify({ content: `!call alerts emit ${inner}\n!busy 2500` });
    session.type(`!call alerts emit ${outer}`);
    await session.expect(/^burst 1000$/, 15000);
    session.type('typed while busy');
    const burst = await session.turn(3, 20000);
    assert.equal((await session.turn(2)).stopReason, 'end_turn');
    assert.equal(burst.blocks.length, 1001);
    burst.blocks.slice(0, 1000).forEach((block, i) => {
      assert.equal(block, `<channel source="alerts" chat_id="b">\nburst ${i + 1}\n</channel>`);
    });
    assert.equal(burst.blocks[1000], 'typed while busy');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(session.turns().length, 3, 'nothing delivered twice');
    await session.quit();
  });

  test('a permission request answered remotely through a channel closes the terminal dialog', async () => {
    const session = open(dev, { servers: { alerts: { FIXTURE_AUTO_VERDICT: 'allow:100' } } });
    session.type('y');
    await session.expect(/^· ready/);
    session.type('!permission Bash rm -rf build');
    const [, id] = /^⚠ permission ([a-km-z]{5}): Bash — rm -rf build$/.exec(await session.expect(/^⚠ permission/))!;
    await session.expect(new RegExp(`^· ${id} allowed via alerts$`));
    const turn = await session.turn(1);
    assert.deepEqual(turn.actions, [{ permission: 'Bash', outcome: 'yes' }]);
    session.type(`no ${id}`);
    await session.expect(new RegExp(`no open permission request ${id}`));
    await session.quit();
  });

  test('an answer typed at the terminal wins over a slower channel', async () => {
    const session = open(dev, { servers: { alerts: { FIXTURE_AUTO_VERDICT: 'allow:1500' } } });
    session.type('y');
    await session.expect(/^· ready/);
    session.type('!permission Write notes.md');
    const [, id] = /^⚠ permission ([a-km-z]{5}):/.exec(await session.expect(/^⚠ permission/))!;
    session.type('n');
    await session.expect(new RegExp(`^· ${id} denied via terminal$`));
    assert.deepEqual((await session.turn(1)).actions, [{ permission: 'Write', outcome: 'no' }]);
    await new Promise((r) => setTimeout(r, 1700)); // the channel's late "allow" arrives and changes nothing
    assert.equal(session.turns().length, 1);
    assert.equal(session.lines.received.filter((l) => l.includes(`${id} allowed`)).length, 0);
    await session.quit();
  });

  test('a server: entry without the development flag runs for its tools but delivers no events', async () => {
    const session = open(['--channels', 'server:alerts']);
    await session.expect(/server:alerts: channel notifications skipped: server: entries need --dangerously-load-development-channels/);
    await session.expect(/^· ready/);
    session.type('!call alerts emit {"content":"should not arrive","meta":{"chat_id":"x"}}');
    const turn = await session.turn(1);
    assert.equal((turn.actions[0] as { text: string }).text, 'emitted 1');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(session.turns().length, 1, 'the event started no turn');
    assert.ok(!session.lines.received.some((l) => l.startsWith('<channel')));
    await session.quit();
  });

  test('declining the development confirmation loads those channels as plain servers', async () => {
    const session = open(dev);
    session.type('n');
    await session.expect(/not loading development channels/);
    await session.expect(/^· ready/);
    await session.quit();
  });

  test('managed settings that do not enable channels block them, with the notice', async () => {
    const dir = tempStateDir();
    const managed = join(dir, 'managed-settings.json');
    writeFileSync(managed, JSON.stringify({ allowedChannelPlugins: [] }));
    const session = open(['--channels', 'plugin:fakechat@openchannels', '--managed-settings', managed], {
      env: { FAKECHAT_STATE_DIR: dir, FAKECHAT_PORT: '0' },
    });
    await session.expect(
      /plugin:fakechat@openchannels: channel notifications skipped: Channels are not enabled for your org · have an administrator set channelsEnabled: true in managed settings/,
    );
    await session.expect(/^· ready/);
    await session.quit();
  });

  test('an untagged --channels entry is an error naming it', async () => {
    const session = open(['--channels', 'fakechat']);
    await session.expect(/channel entries must be tagged: plugin:<name>@<marketplace> or server:<name> \(got "fakechat"\)/);
    assert.equal(await session.exited, 1);
  });

  test('an agent that cannot start is reported, and the channels are stopped', async () => {
    const dir = tempStateDir();
    const child = spawn(process.execPath, [cli, 'run', '--', process.execPath, '-e', 'console.error("no model configured"); process.exit(3)'], {
      cwd: dir,
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(output, /the agent failed to initialize: exited with code 3\n.*no model configured/);
  });
});
