/**
 * A real ACP agent behind `openchannels run`: Claude Code's CLI through its ACP adapter
 * (@zed-industries/claude-agent-acp), talking to a loopback stand-in of the model API, so the
 * whole chain runs here without network: channel event → tag in the agent's prompt → the model
 * calls the channel's reply tool → the CLI asks permission → answered at the terminal → the tool
 * runs in the channel through the host.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { FakeModelApi, tempStateDir } from '@openchannels/testkit';
import { RunSession } from './run-session.js';

const adapter = createRequire(import.meta.url).resolve('@zed-industries/claude-agent-acp/dist/index.js');
let api: FakeModelApi;
let session: RunSession | undefined;
after(async () => {
  session?.kill();
  await api?.close();
});

test('Claude Code through its ACP adapter answers a channel event with the channel reply tool', async () => {
  api = await FakeModelApi.start();
  // The channel's platform sends an event shortly after start; it waits for the agent if need be.
  const event = JSON.stringify({ content: 'deploy failed on main\n!reply looking into it', meta: { chat_id: 'ops-7' } });
  session = new RunSession(['--dangerously-load-development-channels', 'server:alerts'], {
    agent: [process.execPath, adapter],
    servers: { alerts: { FIXTURE_EMIT_AFTER: `300:${event}` } },
    env: {
      HOME: tempStateDir('claude-home-'),
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_API_KEY: 'sk-ant-test-not-a-real-key',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      // The CLI refuses to run its permission modes as root unless told it is in a sandbox.
      IS_SANDBOX: '1',
    },
  });
  session.type('y');
  await session.expect(/^<channel source="alerts" chat_id="ops-7">$/, 30000);
  const [, id] = /^⚠ permission ([a-km-z]{5}): /.exec(await session.expect(/^⚠ permission [a-km-z]{5}: /, 60000))!;
  session.type(`yes ${id}`);
  // The fixture channel numbers what it records; the relayed permission request came first.
  await session.expect(/^⚙ alerts\.reply → sent \(id: r2\)$/, 30000);
  await session.expect(/Done: the reply went out\./, 30000);
  // What a person types reaches the real agent too, and its text comes back.
  session.type('hello');
  await session.expect(/Hello from the fake model\./, 30000);

  const toolUseRequest = api.requests.received.find((r) =>
    JSON.stringify(r.messages ?? []).includes('<channel source=\\"alerts\\" chat_id=\\"ops-7\\">'),
  );
  assert.ok(toolUseRequest, 'the event reached the model as a <channel> tag');
  const toolResult = api.requests.received.find((r) => JSON.stringify(r.messages ?? []).includes('"tool_result"'));
  assert.match(JSON.stringify(toolResult?.messages), /sent \(id: r2\)/, "the channel's answer went back to the model");
  assert.equal(await session.quit(), 0);
});
