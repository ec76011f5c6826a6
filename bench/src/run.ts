/** `npm run bench`: every benchmark, each printing a table. `--quick` for a short smoke run. */
import { FakeDiscord, FakeTelegram } from '@openchannels/testkit';
import { benchDiscord } from './discord.js';
import { benchHost } from './host.js';
import { benchStartup } from './startup.js';
import { benchTelegram } from './telegram.js';
import { benchWebhookLatency, benchWebhookThroughput } from './webhook.js';

const quick = process.argv.includes('--quick');
console.log(`openchannels benchmarks · node ${process.version} · ${new Date().toISOString()}${quick ? ' · quick' : ''}`);
const telegram = await FakeTelegram.start();
const discord = await FakeDiscord.start();
await benchStartup(
  {
    fakechat: {},
    webhook: {},
    telegram: { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot },
    discord: { DISCORD_BOT_TOKEN: discord.token, DISCORD_API_ROOT: discord.apiRoot },
  },
  quick ? 5 : 21,
);
await telegram.close();
await discord.close();
await benchWebhookLatency(quick ? 500 : 5000);
await benchWebhookThroughput(5000, quick ? 2 : 10);
await benchHost(quick ? 2 : 5, quick ? 50 : 300);
await benchTelegram(quick ? 50 : 300);
await benchDiscord(quick ? 50 : 300);
