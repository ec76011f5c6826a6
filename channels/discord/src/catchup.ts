/**
 * Catch-up: Discord does not replay what was sent while no gateway connection was up, so the
 * leader asks REST for what each chat received after its cursor — the DMs of allowlisted users,
 * the opted-in channels and their active threads — and hands it to the pipeline oldest first,
 * all chats merged. Messages the gateway also delivers are recognised by their id (the hub's
 * publish key), delivered once.
 */
import type { AccessStore, Log } from '@openchannels/kit';
import type { APIMessage } from '@discordjs/core/http-only';
import { type DiscordConnector, describeError } from './connector.js';
import type { Cursors } from './cursors.js';

const PAGE = 100;

export async function catchUp(
  connector: DiscordConnector,
  access: AccessStore,
  cursors: Cursors,
  handle: (message: APIMessage & { guild_id?: string }) => Promise<void>,
  log: Log,
): Promise<void> {
  const connectedAt = Date.now();
  const state = access.load();
  const groupIds = Object.keys(state.groups);
  const chats = new Set<string>([...groupIds, ...(await activeThreadsUnder(connector, groupIds, log))]);
  if (state.dmPolicy !== 'disabled') {
    for (const userId of state.allowFrom) {
      try {
        chats.add(await connector.dmChannelOf(userId));
      } catch (err) {
        log(`catch-up: no DM channel with ${userId}: ${describeError(err)}`);
      }
    }
  }
  const since = cursors.since();
  const missed: Array<APIMessage & { guild_id?: string }> = [];
  for (const chatId of chats) {
    // Before the first connection ever, there is nothing to catch up on: old history is not news.
    let after = cursors.get(chatId) ?? since;
    if (after === undefined) continue;
    try {
      // REST messages do not say their guild; the gate must not take them for DMs.
      const channel = await connector.channel(chatId);
      const guild = 'guild_id' in channel && channel.guild_id ? { guild_id: channel.guild_id } : {};
      for (;;) {
        const page = await connector.api.channels.getMessages(chatId, { after, limit: PAGE });
        for (const message of page) missed.push({ ...message, ...guild });
        if (page.length < PAGE) break;
        // Newest first: the first of the page is the newest.
        after = page[0]!.id;
      }
    } catch (err) {
      log(`catch-up of ${chatId} failed: ${describeError(err)}`);
    }
  }
  // Snowflakes grow with time: sorting by id puts every chat's messages in the order they were sent.
  missed.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  for (const message of missed) await handle(message);
  cursors.connectedAt(connectedAt);
}

/** Threads under the opted-in channels that are active now (one opened while the bot was away included). */
async function activeThreadsUnder(connector: DiscordConnector, groupIds: string[], log: Log): Promise<string[]> {
  const guilds = new Set<string>();
  for (const id of groupIds) {
    try {
      const channel = await connector.channel(id);
      if ('guild_id' in channel && channel.guild_id) guilds.add(channel.guild_id);
    } catch (err) {
      log(`catch-up: channel ${id} in access.json is unknown to Discord: ${describeError(err)}`);
    }
  }
  const threads: string[] = [];
  for (const guildId of guilds) {
    try {
      const list = await connector.api.guilds.getActiveThreads(guildId);
      for (const thread of list.threads) {
        if (!('parent_id' in thread) || !thread.parent_id || !groupIds.includes(thread.parent_id)) continue;
        connector.learn(thread);
        threads.push(thread.id);
      }
    } catch (err) {
      log(`catch-up: could not list the active threads of guild ${guildId}: ${describeError(err)}`);
    }
  }
  return threads;
}
