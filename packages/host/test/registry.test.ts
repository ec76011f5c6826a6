import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type ChannelEntry,
  type ManagedSettings,
  type Registration,
  type ServerSpec,
  parseChannelEntry,
  readConfiguredServers,
  readManagedSettings,
  readMarketplace,
  registerChannels,
} from '@openchannels/host';
import { tempStateDir } from '@openchannels/testkit';

const ours = readMarketplace();
const defaultAllowlist = ours.plugins.map((p) => ({ plugin: p.name, marketplace: ours.name }));
const localServer: ServerSpec = { name: 'local', command: 'node', args: ['local.js'], env: {} };

function decide(
  channels: string[],
  options: { development?: string[]; managed?: ManagedSettings } = {},
): Registration[] {
  return registerChannels({
    channels: channels.map(parseChannelEntry),
    development: (options.development ?? []).map(parseChannelEntry),
    marketplaces: [ours],
    configuredServers: new Map([['local', localServer]]),
    managed: options.managed ?? {},
    defaultAllowlist,
  });
}

const only = (registrations: Registration[]) => {
  assert.equal(registrations.length, 1);
  return registrations[0]!;
};

describe('--channels entries', () => {
  test('plugin:NAME@MARKETPLACE splits at the first @, server:NAME names a configured server', () => {
    assert.deepEqual(parseChannelEntry('plugin:fakechat@openchannels'), {
      kind: 'plugin',
      plugin: 'fakechat',
      marketplace: 'openchannels',
    });
    assert.deepEqual(parseChannelEntry('plugin:a@b@c'), { kind: 'plugin', plugin: 'a', marketplace: 'b@c' });
    assert.deepEqual(parseChannelEntry('server:local'), { kind: 'server', name: 'local' } satisfies ChannelEntry);
  });

  test('untagged or incomplete entries are errors naming the entry', () => {
    for (const bad of ['fakechat', 'plugin:fakechat', 'plugin:@m', 'plugin:x@', 'server:', 'mcp:x']) {
      assert.throws(() => parseChannelEntry(bad), { message: new RegExp(`must be tagged.*${JSON.stringify(bad).replace(/[$()*+.?[\\\]^{|}]/g, '\\$&')}`) });
    }
  });
});

describe('registration rules', () => {
  test('a plugin of the approved marketplace delivers events', () => {
    const registration = only(decide(['plugin:fakechat@openchannels']));
    assert.equal(registration.deliversEvents, true);
    assert.equal(registration.notice, undefined);
    assert.equal(registration.spec?.name, 'fakechat');
  });

  test('a plugin nobody has installed is refused with nothing to start', () => {
    const registration = only(decide(['plugin:telegram@elsewhere']));
    assert.equal(registration.deliversEvents, false);
    assert.equal(registration.spec, undefined);
    assert.match(registration.notice!, /plugin:telegram@elsewhere: channel notifications skipped: plugin not installed/);
  });

  test('a server: entry needs the development flag, and still runs for its tools', () => {
    const refused = only(decide(['server:local']));
    assert.equal(refused.deliversEvents, false);
    assert.equal(refused.spec, localServer);
    assert.match(refused.notice!, /server: entries need --dangerously-load-development-channels/);
    const allowed = only(decide([], { development: ['server:local'] }));
    assert.equal(allowed.deliversEvents, true);
  });

  test('a server: entry that is not configured says so', () => {
    assert.match(only(decide([], { development: ['server:nope'] })).notice!, /no MCP server configured with that name/);
  });

  test('managed settings without channelsEnabled block every channel, development ones too', () => {
    for (const managed of [{ path: '/m.json' }, { path: '/m.json', channelsEnabled: false }]) {
      const [plugin, development] = decide(['plugin:fakechat@openchannels'], { development: ['server:local'], managed });
      for (const registration of [plugin!, development!]) {
        assert.equal(registration.deliversEvents, false);
        assert.ok(registration.spec, 'still started as a plain MCP server');
        assert.match(registration.notice!, /Channels are not enabled for your org · have an administrator set channelsEnabled: true/);
      }
    }
  });

  test("an organisation's list replaces the default one; an empty list blocks every plugin", () => {
    const managed = { path: '/m.json', channelsEnabled: true, allowedChannelPlugins: [{ plugin: 'webhook', marketplace: 'openchannels' }] };
    const [fakechat, webhook] = decide(['plugin:fakechat@openchannels', 'plugin:webhook@openchannels'], { managed });
    assert.equal(webhook!.deliversEvents, true);
    assert.equal(fakechat!.deliversEvents, false);
    assert.match(fakechat!.notice!, /plugin fakechat@openchannels is not on your org's approved channels list \(set allowedChannelPlugins in managed settings\)/);
    const none = only(decide(['plugin:webhook@openchannels'], { managed: { ...managed, allowedChannelPlugins: [] } }));
    assert.equal(none.deliversEvents, false);
  });

  test('the development flag bypasses the allowlist for its own entries only', () => {
    const managed = { path: '/m.json', channelsEnabled: true, allowedChannelPlugins: [] };
    const [viaFlag, viaChannels] = decide(['plugin:webhook@openchannels'], {
      development: ['plugin:fakechat@openchannels'],
      managed,
    });
    assert.equal(viaFlag!.deliversEvents, true);
    assert.equal(viaChannels!.deliversEvents, false);
  });

  test('a plugin off the default allowlist points at the development flag', () => {
    const registration = only(
      registerChannels({
        channels: [parseChannelEntry('plugin:fakechat@openchannels')],
        development: [],
        marketplaces: [ours],
        configuredServers: new Map(),
        managed: {},
        defaultAllowlist: [],
      }),
    );
    assert.match(registration.notice!, /is not on the approved channels allowlist \(use --dangerously-load-development-channels for local dev\)/);
  });
});

describe('managed settings file', () => {
  test('absent means an individual user: no organisation rules', () => {
    assert.deepEqual(readManagedSettings(join(tempStateDir(), 'none.json')), {});
  });

  test('a corrupt or mistyped file blocks channels (fail closed) with a clear reason', () => {
    const dir = tempStateDir();
    const cases: Array<[string, RegExp]> = [
      ['{"channelsEnabled": tru', /could not be read/],
      ['[]', /must be a JSON object/],
      ['{"channelsEnabled": "yes"}', /channelsEnabled must be true or false/],
      ['{"channelsEnabled": true, "allowedChannelPlugins": ["fakechat"]}', /allowedChannelPlugins must be a list/],
    ];
    for (const [text, reason] of cases) {
      const path = join(dir, 'managed-settings.json');
      writeFileSync(path, text);
      const managed = readManagedSettings(path);
      assert.match(managed.error!, reason);
      const registration = only(decide(['plugin:fakechat@openchannels'], { managed }));
      assert.equal(registration.deliversEvents, false);
      assert.match(registration.notice!, /channels are blocked until it is fixed/);
    }
  });

  test('a BOM at the start is tolerated', () => {
    const path = join(tempStateDir(), 'managed-settings.json');
    writeFileSync(path, '\uFEFF{"channelsEnabled": true}');
    assert.equal(readManagedSettings(path).channelsEnabled, true);
  });
});

describe('configured MCP servers', () => {
  test("come from the working folder's .mcp.json and the user's .claude.json, the folder winning", () => {
    const home = tempStateDir();
    const cwd = join(home, 'project');
    mkdirSync(cwd);
    writeFileSync(
      join(home, '.claude.json'),
      JSON.stringify({ numStartups: 3, mcpServers: { alerts: { command: 'node', args: ['user.js'] }, shared: { command: 'user' } } }),
    );
    writeFileSync(join(cwd, '.mcp.json'), JSON.stringify({ mcpServers: { shared: { command: 'project', args: ['${HOME_HINT:-x}'] } } }));
    const servers = readConfiguredServers(cwd, { CLAUDE_CONFIG_DIR: home });
    assert.deepEqual([...servers.keys()].sort(), ['alerts', 'shared']);
    assert.equal(servers.get('shared')!.command, 'project');
    assert.deepEqual(servers.get('shared')!.args, ['x']);
    assert.equal(servers.get('alerts')!.cwd, cwd);
  });
});
