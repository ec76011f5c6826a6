import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readMarketplace } from '@openchannels/host';
import { FakeDiscord, FakeHost, FakeTelegram, tempStateDir } from '@openchannels/testkit';

/**
 * Claude Code installs a plugin by copying its folder alone into its plugin cache. Each plugin
 * must start from such a copy with Node alone: no node_modules, no build, no install step.
 */
describe('plugins installed the way Claude Code installs them', () => {
  const hosts: FakeHost[] = [];
  // The telegram and discord plugins need a bot token and an API to reach.
  let telegram: FakeTelegram;
  let discord: FakeDiscord;
  before(async () => {
    telegram = await FakeTelegram.start();
    discord = await FakeDiscord.start();
  });
  after(async () => {
    await Promise.all(hosts.map((h) => h.close()));
    await telegram.close();
    await discord.close();
  });

  for (const plugin of readMarketplace().plugins) {
    test(`${plugin.name} starts from a lone copy of its folder`, async () => {
      const cache = join(tempStateDir('plugin-cache-'), plugin.name);
      cpSync(plugin.dir, cache, {
        recursive: true,
        filter: (path) => !/[/\\](node_modules|dist)([/\\]|$)/.test(path),
      });
      const prefix = plugin.name.toUpperCase();
      const host = await FakeHost.plugin(cache, {
        env: {
          [`${prefix}_STATE_DIR`]: tempStateDir(),
          [`${prefix}_PORT`]: '0',
          TELEGRAM_BOT_TOKEN: telegram.token,
          TELEGRAM_API_ROOT: telegram.apiRoot,
          DISCORD_BOT_TOKEN: discord.token,
          DISCORD_API_ROOT: discord.apiRoot,
        },
      });
      hosts.push(host);
      assert.ok(host.connection.isChannel, 'declares claude/channel');
      assert.ok(host.connection.instructions.includes(`<channel source="${plugin.name}"`));
      const tools = await host.connection.listTools();
      assert.ok(tools.some((t) => t.name === 'reply'), 'has a reply tool');
      assert.deepEqual(host.protocolErrors, []);
    });
  }
});
