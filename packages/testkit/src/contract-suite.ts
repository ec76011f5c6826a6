/**
 * The contract suite: what every channel server owes a host, runnable against any server.
 * A channel's test file calls `channelContractSuite(...)` inside its own test file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import type { ServerSpec } from '@openchannels/host';
import { META_KEY_PATTERN } from '@openchannels/kit';
import { FakeHost } from './fake-host.js';
import { RawServer } from './raw.js';

export interface ContractSubject {
  /** The server's configured name (its events' `source`). */
  name: string;
  /** A fresh spec per call: each test starts its own server (own state dir, port). */
  spec(): ServerSpec;
  /** Whether the server must declare `claude/channel/permission`. */
  relaysPermissions: boolean;
  /** Makes the running server emit at least one event (e.g. posts to its HTTP port). */
  triggerEvent(host: FakeHost): Promise<void>;
  /** Answers an open permission request through the channel, as its remote user would. */
  answerPermission?(host: FakeHost, requestId: string, behavior: 'allow' | 'deny'): Promise<void>;
}

export function channelContractSuite(subject: ContractSubject): void {
  describe(`channel contract: ${subject.name}`, () => {
    const cleanups: Array<() => unknown> = [];
    after(async () => {
      for (const cleanup of cleanups) await cleanup();
    });
    const startHost = async () => {
      const host = await FakeHost.start(subject.spec());
      cleanups.push(() => host.close());
      return host;
    };
    const startRaw = () => {
      const raw = RawServer.spawn(subject.spec());
      cleanups.push(() => raw.kill());
      return raw;
    };

    test('declares the channel capability, tools, and permission relay only when it authenticates', async () => {
      const raw = startRaw();
      const response = await raw.initialize();
      const capabilities = response.result?.capabilities as Record<string, Record<string, unknown>>;
      assert.deepEqual(capabilities.experimental?.['claude/channel'], {});
      assert.equal('claude/channel/permission' in (capabilities.experimental ?? {}), subject.relaysPermissions);
      assert.deepEqual(capabilities.tools, {});
    });

    test('instructions tell the agent the tag format and the reply tool', async () => {
      const host = await startHost();
      const { instructions } = host.connection;
      assert.ok(instructions.length > 100, 'instructions are substantial');
      assert.match(instructions, new RegExp(`<channel source="${subject.name}"`));
      assert.match(instructions, /\breply\b/);
    });

    test('answers server/discover with method-not-found, then completes the classic handshake', async () => {
      const raw = startRaw();
      const discover = await raw.request('server/discover');
      assert.equal(discover.error?.code, -32601);
      const init = await raw.initialize();
      assert.ok(init.result?.protocolVersion, 'initialize answered after server/discover');
    });

    test('writes nothing but JSON-RPC to stdout, and survives malformed input', async () => {
      const raw = startRaw();
      await raw.initialize();
      raw.send('{this is not json');
      raw.send('[1,2,3]');
      raw.send({ jsonrpc: '2.0', id: 'x', method: 'no/such/method' });
      const listed = await raw.request('tools/list');
      assert.ok(Array.isArray(listed.result?.tools), 'still answering after malformed input');
      await raw.request('tools/call', { name: 'no_such_tool', arguments: {} });
      for (const line of raw.stdoutLines) {
        const message = JSON.parse(line) as { jsonrpc?: string };
        assert.equal(message.jsonrpc, '2.0', `stdout line is JSON-RPC: ${line.slice(0, 200)}`);
      }
    });

    test('an unknown tool is a tool error, not a protocol error', async () => {
      const host = await startHost();
      const outcome = await host.tool('no_such_tool', {});
      assert.equal(outcome.isError, true);
      assert.equal(outcome.text, 'unknown tool: no_such_tool');
    });

    test('missing or wrong-typed arguments get a clear tool error naming the field', async () => {
      const host = await startHost();
      const tools = await host.connection.listTools();
      assert.ok(tools.length > 0, 'has tools');
      for (const tool of tools) {
        const required = (tool.inputSchema.required as string[] | undefined) ?? [];
        if (required.length === 0) continue;
        const missing = await host.tool(tool.name, {});
        assert.equal(missing.isError, true, `${tool.name} with no arguments fails`);
        assert.match(missing.text, new RegExp(`^${tool.name} failed: invalid arguments: .*${required[0]}`));
        const wrongTyped = Object.fromEntries(required.map((key) => [key, { not: 'a valid value' }]));
        const wrong = await host.tool(tool.name, wrongTyped);
        assert.equal(wrong.isError, true, `${tool.name} with wrong-typed arguments fails`);
        assert.match(wrong.text, new RegExp(`^${tool.name} failed: invalid arguments: `));
      }
    });

    test('events follow the meta rules: string content, identifier keys, string values', async () => {
      const host = await startHost();
      await subject.triggerEvent(host);
      const event = await host.nextEvent();
      assert.equal(typeof event.content, 'string');
      for (const [key, value] of Object.entries(event.meta ?? {})) {
        assert.match(key, META_KEY_PATTERN);
        assert.notEqual(key, 'source');
        assert.equal(typeof value, 'string', `meta ${key} is a string`);
      }
      assert.deepEqual(host.protocolErrors, []);
    });

    if (subject.relaysPermissions) {
      test('permission relay: a request goes out and the remote answer comes back as a verdict', async () => {
        const host = await startHost();
        const answer = subject.answerPermission;
        assert.ok(answer, 'a relaying subject says how its user answers');
        for (const behavior of ['allow', 'deny'] as const) {
          const request = await host.requestPermission('Bash', 'list files', { command: 'ls -la' });
          await answer(host, request.request_id, behavior);
          const verdict = await host.nextVerdict((v) => v.request_id === request.request_id);
          assert.equal(verdict.behavior, behavior);
        }
      });
    }

    for (const [how, stop] of [
      ['stdin closes', (raw: RawServer) => raw.child.stdin.end()],
      ['SIGTERM', (raw: RawServer) => raw.child.kill('SIGTERM')],
      ['SIGINT', (raw: RawServer) => raw.child.kill('SIGINT')],
    ] as const) {
      test(`exits with code 0 within 2 s when ${how}`, async () => {
        const raw = startRaw();
        await raw.initialize();
        const stoppedAt = Date.now();
        stop(raw);
        const exit = await Promise.race([
          raw.exit,
          new Promise<null>((resolve) => setTimeout(() => resolve(null), 2500)),
        ]);
        assert.ok(exit, `exited within 2.5 s of ${how}`);
        assert.equal(exit.code, 0);
        assert.ok(exit.at - stoppedAt <= 2000, `exited after ${exit.at - stoppedAt} ms`);
      });
    }

    test('leaves no orphan when its host is killed outright', async () => {
      const spec = subject.spec();
      // A stand-in host process that starts the server on pipes, reports its pid, then waits.
      const hostScript = `
        const { spawn } = require('node:child_process');
        const spec = JSON.parse(process.argv[1]);
        const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: ['pipe', 'pipe', 'ignore'] });
        child.stdout.once('data', () => console.log(child.pid));
        child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'h', version: '0' } } }) + '\\n');
      `;
      const host = spawn(process.execPath, ['-e', hostScript, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const serverPid = await new Promise<number>((resolve, reject) => {
        host.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
        host.once('exit', () => reject(new Error('stand-in host exited early')));
      });
      cleanups.push(() => {
        try {
          process.kill(serverPid, 'SIGKILL');
        } catch {
          // already gone, as it should be
        }
      });
      host.kill('SIGKILL');
      const deadline = Date.now() + 2500;
      let alive = true;
      while (alive && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          process.kill(serverPid, 0);
        } catch {
          alive = false;
        }
      }
      assert.equal(alive, false, `server ${serverPid} still running 2.5 s after its host was killed`);
    });
  });
}
