import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { readPluginServers } from '@openchannels/host';
import { type DcMessage, FakeDiscord, type FakeHost, channelContractSuite, tempStateDir } from '@openchannels/testkit';
import { ALICE_ID, accessJson, discordEnv, pluginDir } from './helpers.js';

// A fake Discord per server the suite starts (the suite asks for specs synchronously, so a few
// are started up front), so no server sees another's messages.
const fakes = await Promise.all(Array.from({ length: 12 }, () => FakeDiscord.start()));
const byApiRoot = new Map(fakes.map((dc) => [dc.apiRoot, dc]));
let used = 0;
const stateDirs: string[] = [];
after(async () => {
  await Promise.all(fakes.map((dc) => dc.close()));
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

function fakeOf(host: FakeHost): FakeDiscord {
  return byApiRoot.get(host.connection.spec.env.DISCORD_API_ROOT!)!;
}

channelContractSuite({
  name: 'discord',
  relaysPermissions: true,
  spec: () => {
    const [spec] = readPluginServers(pluginDir);
    const dc = fakes[used++];
    if (!dc) throw new Error('more servers than fakes: raise the count above');
    const stateDir = tempStateDir('discord-contract-');
    stateDirs.push(stateDir);
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'access.json'), JSON.stringify(accessJson()));
    return { ...spec!, env: discordEnv(dc, stateDir) };
  },
  triggerEvent: async (host) => {
    const dc = fakeOf(host);
    await dc.connected();
    dc.dm(dc.user(ALICE_ID, 'alice'), 'hello from Discord');
  },
  // The allowlisted user presses the prompt's button in their DM.
  answerPermission: async (host, requestId, behavior) => {
    const dc = fakeOf(host);
    const prompt = await dc.nextCall('POST /channels/:id/messages', (call) =>
      JSON.stringify(call.body.components ?? '').includes(`perm:allow:${requestId}`),
    );
    await dc.connected();
    dc.press(dc.user(ALICE_ID, 'alice'), prompt.result as DcMessage, `perm:${behavior}:${requestId}`);
  },
});
