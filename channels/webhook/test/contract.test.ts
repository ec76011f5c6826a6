import { channelContractSuite } from '@openchannels/testkit';
import { VERIFIED_CONFIG, VERIFIED_DOTENV, ciHeaders, listeningPort, send, webhookSpec } from './helpers.js';

channelContractSuite({
  name: 'webhook',
  relaysPermissions: true,
  spec: () => webhookSpec({ config: VERIFIED_CONFIG, dotenv: VERIFIED_DOTENV }),
  triggerEvent: async (host) => {
    const response = await send(await listeningPort(host), { body: 'build failed on main' });
    if (response.status !== 202) throw new Error(`POST / answered ${response.status}: ${response.text}`);
  },
  answerPermission: async (host, requestId, behavior) => {
    const body = `${behavior === 'allow' ? 'yes' : 'no'} ${requestId}`;
    const response = await send(await listeningPort(host), { path: '/ci', headers: ciHeaders(body), body });
    if (response.status !== 200) throw new Error(`verdict answered ${response.status}: ${response.text}`);
  },
});
