import { rmSync } from 'node:fs';
import { after } from 'node:test';
import { readPluginServers } from '@openchannels/host';
import { channelContractSuite, tempStateDir } from '@openchannels/testkit';
import { PageSocket, pagePort, pluginDir, testEnv } from './helpers.js';

const stateDirs: string[] = [];
after(() => stateDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
let sent = 0;

/** Types a message into the page, as its user would. */
async function typeInPage(port: number, text: string): Promise<void> {
  const page = await PageSocket.open(port);
  page.sendMessage(`u${Date.now()}-${++sent}`, text);
  await page.next('msg', (frame) => frame.text === text);
  page.close();
}

channelContractSuite({
  name: 'fakechat',
  relaysPermissions: true,
  spec: () => {
    const [spec] = readPluginServers(pluginDir);
    const stateDir = tempStateDir('fakechat-');
    stateDirs.push(stateDir);
    return { ...spec!, env: testEnv(stateDir) };
  },
  triggerEvent: async (host) => typeInPage(await pagePort(host), 'hello from the page'),
  answerPermission: async (host, requestId, behavior) =>
    typeInPage(await pagePort(host), `${behavior === 'allow' ? 'yes' : 'no'} ${requestId}`),
});
