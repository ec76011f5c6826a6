/**
 * Discord against the fake Discord (REST and a WebSocket gateway on loopback): the chat-channel
 * benchmark with a MESSAGE_CREATE dispatched on the gateway as the user's DM and
 * POST /channels/:id/messages as the bot's message, timed to the moment the fake records the POST
 * (as it answers it).
 */
import { FakeDiscord } from '@openchannels/testkit';
import { benchChatChannel } from './chat-channel.js';

const ALICE = '200000000000000111';
const CREATE_MESSAGE = 'POST /channels/:id/messages';

export async function benchDiscord(probes: number): Promise<void> {
  const dc = await FakeDiscord.start({ username: 'bench-bot' });
  const alice = dc.user(ALICE, 'alice');
  const aliceDm = dc.dmChannel(alice);
  await benchChatChannel(probes, {
    channel: 'discord',
    env: (stateDir) => ({ DISCORD_BOT_TOKEN: dc.token, DISCORD_API_ROOT: dc.apiRoot, DISCORD_STATE_DIR: stateDir }),
    userId: ALICE,
    chatId: aliceDm.id,
    sendUserMessage: (text) => dc.dm(alice, text),
    outboundArrival: (text) => dc.nextCall(CREATE_MESSAGE, (call) => call.body.content === text, 5000),
    sentTexts: () => dc.callsTo(CREATE_MESSAGE).map((call) => String(call.body.content)),
    connected: () => dc.connected(),
    close: () => dc.close(),
    labels: {
      name: 'Discord',
      fake: 'the fake Discord',
      userMessageAs: 'dispatch',
      botMessageAs: 'POST message',
      burstOf: 'DMs',
      connection: 'gateway',
    },
  });
}
