/**
 * Telegram against the fake Bot API (real HTTP long polling, the poll held open as in production):
 * the chat-channel benchmark with an update as the user's message and sendMessage as the bot's,
 * timed to the moment the call arrives at the fake.
 */
import { FakeTelegram } from '@openchannels/testkit';
import { benchChatChannel } from './chat-channel.js';

const ALICE = 111;

export async function benchTelegram(probes: number): Promise<void> {
  const tg = await FakeTelegram.start({ username: 'bench_bot' });
  const alice = tg.user(ALICE, 'alice', 'Alice');
  tg.chatWith(alice);
  await benchChatChannel(probes, {
    channel: 'telegram',
    env: (stateDir) => ({ TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_STATE_DIR: stateDir }),
    userId: String(ALICE),
    chatId: String(ALICE),
    sendUserMessage: (text) => tg.dm(alice, text),
    outboundArrival: (text) => tg.arrivals.next((call) => call.method === 'sendMessage' && call.params.text === text, 5000),
    sentTexts: () => tg.callsTo('sendMessage').map((call) => String(call.params.text)),
    close: () => tg.close(),
    labels: {
      name: 'Telegram',
      fake: 'the fake Bot API',
      userMessageAs: 'update',
      botMessageAs: 'sendMessage',
      burstOf: 'messages',
      connection: 'polling',
    },
  });
}
