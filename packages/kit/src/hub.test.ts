import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Verdict } from './contract.js';
import { Hub, type LeaderContext, hubAddress } from './hub.js';

interface Session {
  hub: Hub;
  events: string[];
  verdicts: Verdict[];
  label: string;
}

/** A stand-in platform: each leadership it is asked to start is recorded with its context. */
class FakePlatform {
  readonly leaderships: Array<{ context: LeaderContext; stopped: boolean }> = [];
  get current(): LeaderContext {
    const live = this.leaderships.filter((l) => !l.stopped);
    assert.equal(live.length, 1, `exactly one platform connection is open (found ${live.length})`);
    return live[0]!.context;
  }
}

const hubs: Hub[] = [];
after(() => Promise.all(hubs.map((h) => h.close())));

function stateDir(): string {
  return mkdtempSync(join(tmpdir(), 'hub-'));
}

interface JoinOptions {
  refuse?: () => boolean;
  /** Handles the sessions' messages while this session leads. */
  onMessage?: (message: unknown, from: string) => void;
}

async function join_(dir: string, platform: FakePlatform, label: string, options: JoinOptions = {}): Promise<Session> {
  const events: string[] = [];
  const verdicts: Verdict[] = [];
  const hub = await Hub.join({
    stateDir: dir,
    log: () => {},
    label,
    deliver: async ({ content }) => {
      if (options.refuse?.()) return false;
      events.push(content);
      return true;
    },
    onVerdict: (verdict) => verdicts.push(verdict),
    lead: async (context) => {
      const record = { context, stopped: false };
      platform.leaderships.push(record);
      if (options.onMessage) context.onMessage((message, from) => options.onMessage!(message, from.label));
      return { stop: async () => void (record.stopped = true) };
    },
  });
  hubs.push(hub);
  return { hub, events, verdicts, label };
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('hub: one platform connection shared by every session', () => {
  test('the first session leads; others join; only one platform connection is ever open', async () => {
    const dir = stateDir();
    const platform = new FakePlatform();
    const a = await join_(dir, platform, 'api');
    const b = await join_(dir, platform, 'web');
    const c = await join_(dir, platform, 'docs');
    assert.equal(a.hub.isLeader, true);
    assert.equal(b.hub.isLeader, false);
    assert.equal(c.hub.isLeader, false);
    assert.equal(platform.leaderships.length, 1);
    await until(() => a.hub.sessions.length === 3 && c.hub.sessions.length === 3, 'all sessions known everywhere');
    assert.deepEqual(c.hub.sessions.map((s) => s.label), ['api', 'web', 'docs']);
  });

  test('events go in order, exactly once, to the session attached last; the user can route elsewhere', async () => {
    const dir = stateDir();
    const platform = new FakePlatform();
    const a = await join_(dir, platform, 'api');
    const b = await join_(dir, platform, 'web');
    await until(() => a.hub.sessions.length === 2, 'b attached');
    for (let i = 1; i <= 50; i++) await platform.current.publish(`m${i}`, {});
    await until(() => b.events.length === 50, 'delivery to b');
    assert.deepEqual(b.events, Array.from({ length: 50 }, (_, i) => `m${i + 1}`));
    assert.deepEqual(a.events, []);
    assert.equal(platform.current.route(a.hub.self.id), true);
    await platform.current.publish('after routing', {});
    await until(() => a.events.length === 1, 'delivery to a');
    assert.deepEqual(a.events, ['after routing']);
    assert.equal(platform.current.route('nobody'), false);
  });

  test('a re-sent platform item (same key) is delivered once', async () => {
    const platform = new FakePlatform();
    const a = await join_(stateDir(), platform, 'api');
    assert.equal(await platform.current.publish('hello', {}, 'update:7'), true);
    assert.equal(await platform.current.publish('hello', {}, 'update:7'), false);
    await until(() => a.events.length === 1, 'delivery');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(a.events, ['hello']);
  });

  test('a receiving session that cannot take events is passed over while another can', async () => {
    const dir = stateDir();
    const platform = new FakePlatform();
    let bBroken = true;
    const a = await join_(dir, platform, 'api');
    const b = await join_(dir, platform, 'web', { refuse: () => bBroken });
    await until(() => a.hub.sessions.length === 2, 'b attached');
    await platform.current.publish('first', {});
    await platform.current.publish('second', {});
    await until(() => a.events.length === 2, 'delivery to the working session');
    assert.deepEqual(a.events, ['first', 'second']);
    bBroken = false;
    await platform.current.publish('third', {});
    await until(() => a.events.length + b.events.length === 3, 'third delivered');
    assert.equal(a.events.length + b.events.length, 3, 'each event once');
  });

  test('verdicts reach every session', async () => {
    const dir = stateDir();
    const platform = new FakePlatform();
    const a = await join_(dir, platform, 'api');
    const b = await join_(dir, platform, 'web');
    await until(() => a.hub.sessions.length === 2, 'b attached');
    platform.current.verdict({ request_id: 'abcde', behavior: 'allow' });
    await until(() => a.verdicts.length === 1 && b.verdicts.length === 1, 'verdicts');
  });

  test('when the leading session ends, another takes over the connection and nothing is lost', async () => {
    const dir = stateDir();
    const platform = new FakePlatform();
    let bRefuses = true;
    const a = await join_(dir, platform, 'api', { refuse: () => true });
    const b = await join_(dir, platform, 'web', { refuse: () => bRefuses });
    await until(() => a.hub.sessions.length === 2, 'b attached');
    // Neither session can take events yet: they stay spooled, in order.
    await platform.current.publish('one', {});
    await platform.current.publish('two', {});
    await a.hub.close();
    await until(() => b.hub.isLeader, 'b leads');
    assert.equal(platform.leaderships.length, 2);
    assert.equal(platform.leaderships[0]!.stopped, true, "the first leader's connection was stopped");
    bRefuses = false;
    await until(() => b.events.length === 2, 'replay after takeover');
    assert.deepEqual(b.events, ['one', 'two']);
  });

  test('when the last session ends, no connection stays open and the socket is gone', async () => {
    const dir = stateDir();
    const platform = new FakePlatform();
    const a = await join_(dir, platform, 'api');
    const b = await join_(dir, platform, 'web');
    await b.hub.close();
    await a.hub.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(platform.leaderships.every((l) => l.stopped));
    assert.equal(existsSync(hubAddress(dir)), false);
  });

  test('sessions can send messages to the leader, which knows who sent them', async () => {
    const dir = stateDir();
    const platform = new FakePlatform();
    const a = await join_(dir, platform, 'api');
    const b = await join_(dir, platform, 'web');
    const received: Array<[unknown, string]> = [];
    platform.current.onMessage((message, from) => void received.push([message, from.label]));
    await b.hub.tellLeader({ prompt: 'Bash' });
    await a.hub.tellLeader({ prompt: 'Write' });
    await until(() => received.length === 2, 'both messages');
    assert.deepEqual(received.sort(), [[{ prompt: 'Bash' }, 'web'], [{ prompt: 'Write' }, 'api']].sort());
  });

  test('replies name their session only while several share the connection', async () => {
    const dir = stateDir();
    const platform = new FakePlatform();
    const a = await join_(dir, platform, 'api');
    assert.equal(a.hub.replyPrefix(), '');
    const b = await join_(dir, platform, 'web');
    await until(() => a.hub.sessions.length === 2 && b.hub.sessions.length === 2, 'both attached');
    assert.equal(a.hub.replyPrefix(), '[api] ');
    assert.equal(b.hub.replyPrefix(), '[web] ');
  });

  test('a leader killed between receiving and delivering loses nothing: the next one delivers it once', async () => {
    const dir = stateDir();
    const hubModule = join(fileURLToPath(new URL('.', import.meta.url)), 'hub.js');
    const script = join(dir, 'crash.mjs');
    // A leader whose session cannot take events: it spools one, says so, and is killed.
    writeFileSync(
      script,
      `import { Hub } from ${JSON.stringify(hubModule)};
       await Hub.join({ stateDir: ${JSON.stringify(dir)}, log: () => {}, label: 'doomed',
         deliver: async () => false, onVerdict: () => {},
         lead: async (ctx) => { await ctx.publish('survives the crash', { chat_id: '1' }, 'update:1'); console.log('spooled'); return { stop: async () => {} }; } });
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok(existsSync(hubAddress(dir)), 'the killed leader left its socket file behind');

    const platform = new FakePlatform();
    const next = await join_(dir, platform, 'next');
    assert.equal(next.hub.isLeader, true, 'took over the stale socket');
    await until(() => next.events.length === 1, 'replay');
    // The platform re-sends the item it never saw confirmed: recognised, not delivered again.
    assert.equal(await platform.current.publish('survives the crash', {}, 'update:1'), false);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(next.events, ['survives the crash']);
  });

  test('a message to a leader that dies before confirming it goes to the next leader', async () => {
    const dir = stateDir();
    const hubModule = join(fileURLToPath(new URL('.', import.meta.url)), 'hub.js');
    const script = join(dir, 'unconfirming.mjs');
    // A leader that takes messages and never finishes handling them (its process is about to die).
    writeFileSync(
      script,
      `import { Hub } from ${JSON.stringify(hubModule)};
       await Hub.join({ stateDir: ${JSON.stringify(dir)}, log: () => {}, label: 'doomed',
         deliver: async () => true, onVerdict: () => {},
         lead: async (ctx) => { ctx.onMessage(() => { console.log('got it'); return new Promise(() => {}); }); return { stop: async () => {} }; } });
       console.log('leading');
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
    await until(() => lines.includes('leading'), 'the doomed leader');
    const received: unknown[] = [];
    const member = await join_(dir, new FakePlatform(), 'web', { onMessage: (message) => received.push(message) });
    await member.hub.tellLeader({ prompt: 'Bash' });
    await until(() => lines.includes('got it'), 'the doomed leader received it');
    child.kill('SIGKILL');
    await until(() => member.hub.isLeader, 'the member takes over');
    await until(() => received.length === 1, 'the message handled by the new leader');
    assert.deepEqual(received, [{ prompt: 'Bash' }]);
    await member.hub.tellLeader({ prompt: 'Write' });
    assert.deepEqual(received, [{ prompt: 'Bash' }, { prompt: 'Write' }], 'handled at once by the leading session itself');
  });
});
