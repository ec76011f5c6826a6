import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { readPluginServers } from '@openchannels/host';
import { type FakeHost, FakeTelegram, type TgMessage, channelContractSuite, tempStateDir } from '@openchannels/testkit';
import { ALICE_ID, accessJson, pluginDir, telegramEnv } from './helpers.js';

// One fake Bot API; each server the suite starts gets a bot of its own, so none steals another's updates.
const telegram = await FakeTelegram.start();
const bots = new Map<string, FakeTelegram>();
const stateDirs: string[] = [];
after(async () => {
  await telegram.close();
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

function botOf(host: FakeHost): FakeTelegram {
  return bots.get(host.connection.spec.env.TELEGRAM_BOT_TOKEN!)!;
}

channelContractSuite({
  name: 'telegram',
  relaysPermissions: true,
  spec: () => {
    const [spec] = readPluginServers(pluginDir);
    const bot = telegram.anotherBot({ username: `contract${bots.size}_bot` });
    bot.chatWith(bot.user(ALICE_ID, 'alice'));
    bots.set(bot.token, bot);
    const stateDir = tempStateDir('telegram-contract-');
    stateDirs.push(stateDir);
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'access.json'), JSON.stringify(accessJson()));
    return { ...spec!, env: telegramEnv(bot, stateDir) };
  },
  triggerEvent: async (host) => {
    const bot = botOf(host);
    bot.dm(bot.user(ALICE_ID, 'alice'), 'hello from Telegram');
  },
  // The allowlisted user presses the prompt's button in their DM.
  answerPermission: async (host, requestId, behavior) => {
    const bot = botOf(host);
    const prompt = await bot.nextCall('sendMessage', (call) =>
      JSON.stringify(call.params.reply_markup ?? '').includes(`perm:allow:${requestId}`),
    );
    bot.press(bot.user(ALICE_ID, 'alice'), prompt.result as TgMessage, `perm:${behavior}:${requestId}`);
  },
});
