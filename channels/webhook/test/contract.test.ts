import { join } from 'node:path';
import { readPluginServers } from '@openchannels/host';
import { channelContractSuite, repoRoot, tempStateDir } from '@openchannels/testkit';

const pluginDir = join(repoRoot, 'channels/webhook');
channelContractSuite({
  name: 'webhook',
  relaysPermissions: false,
  spec: () => {
    const [spec] = readPluginServers(pluginDir);
    return { ...spec!, env: { WEBHOOK_STATE_DIR: tempStateDir(), WEBHOOK_PORT: '0' } };
  },
  triggerEvent: async (host) => {
    const [, port] = await host.stderrMatch(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'build failed' });
  },
});
