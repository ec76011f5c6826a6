/**
 * Running the discord channel in tests as Claude Code runs it (the plugin's .mcp.json, under a
 * fake host) against a fake Discord, with its own state directory per test.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  type AccessFile,
  type DcChannel,
  type DcUser,
  FakeDiscord,
  type FakeDiscordOptions,
  FakeHost,
  type SavedAccess,
  readAccessFile,
  repoRoot,
  tempStateDir,
  writeAccessFile,
} from '@openchannels/testkit';
import type { ChannelEvent } from '@openchannels/kit';

export const pluginDir = join(repoRoot, 'channels/discord');

/** An allowlisted user, in every run's access.json unless a test says otherwise. */
export const ALICE_ID = '200000000000000111';
/** A member of the server, not allowlisted. */
export const BOB_ID = '200000000000000222';

export interface RunOptions {
  /** access.json as written before start; null writes none. Default: pairing, Alice allowlisted (for a new state dir). */
  access?: AccessFile | ((dc: FakeDiscord) => AccessFile) | null;
  /** An existing fake and state dir (a session started later on the same machine). */
  dc?: FakeDiscord;
  /** How to start the fake when none is given. */
  fake?: FakeDiscordOptions;
  stateDir?: string;
  env?: Record<string, string>;
}

export interface DiscordRun {
  host: FakeHost;
  dc: FakeDiscord;
  stateDir: string;
  alice: DcUser;
  /** Alice's DM channel with the bot. */
  aliceDm: DcChannel;
  writeAccess(access: AccessFile): void;
  readAccess(): SavedAccess;
  /** Sends a DM from Alice and waits for its event: everything dispatched before has been handled. */
  barrier(): Promise<void>;
}

export function accessJson(overrides: AccessFile = {}): AccessFile {
  return { dmPolicy: 'pairing', allowFrom: [ALICE_ID], groups: {}, pending: {}, ...overrides };
}

export function discordEnv(dc: FakeDiscord, stateDir: string): Record<string, string> {
  return { DISCORD_BOT_TOKEN: dc.token, DISCORD_API_ROOT: dc.apiRoot, DISCORD_STATE_DIR: stateDir, DISCORD_ACCESS_MODE: '' };
}

let barriers = 0;
const sessionsOf = new WeakMap<FakeDiscord, FakeHost[]>();

/** Starts a fake Discord (unless given) and the channel against it; both end with the test. */
export async function startDiscord(t: TestContext, options: RunOptions = {}): Promise<DiscordRun> {
  const dc = options.dc ?? (await FakeDiscord.start(options.fake));
  const stateDir = options.stateDir ?? tempStateDir('discord-');
  const writeAccess = (access: AccessFile) => writeAccessFile(stateDir, access);
  // A given state dir keeps its access.json unless the test gives one.
  if (options.access !== null && (options.access !== undefined || !options.stateDir)) {
    writeAccess(typeof options.access === 'function' ? options.access(dc) : (options.access ?? accessJson()));
  }
  let host: FakeHost;
  try {
    host = await FakeHost.plugin(pluginDir, { env: { ...discordEnv(dc, stateDir), ...options.env } });
  } catch (err) {
    if (!options.dc) await dc.close();
    throw err;
  }
  const hosts = sessionsOf.get(dc) ?? [];
  sessionsOf.set(dc, hosts);
  hosts.push(host);
  if (!options.dc) {
    // After every session on this fake, including those started later in the test.
    t.after(async () => {
      for (const session of hosts) await session.close();
      await dc.close();
      rmSync(stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    });
  }
  const alice = dc.user(ALICE_ID, 'alice');
  return {
    host,
    dc,
    stateDir,
    alice,
    aliceDm: dc.dmChannel(alice),
    writeAccess,
    readAccess: () => readAccessFile(stateDir),
    barrier: async () => {
      const text = `barrier ${++barriers}`;
      await dc.connected();
      dc.dm(alice, text);
      await host.nextEvent((event) => event.content === text, 8000);
    },
  };
}

export interface GuildRun extends DiscordRun {
  /** Opted in with the rules the test gave. */
  general: DcChannel;
  /** Not opted in. */
  random: DcChannel;
  bob: DcUser;
}

/** A run (Alice allowlisted) whose access.json opts in one server channel, #general, with `group`'s rules. */
export async function startInGuild(
  t: TestContext,
  group: { requireMention: boolean; allowFrom?: string[] },
  options: Omit<RunOptions, 'access'> = {},
): Promise<GuildRun> {
  let general!: DcChannel;
  let random!: DcChannel;
  const run = await startDiscord(t, {
    ...options,
    access: (dc) => {
      general = dc.guildChannel('general');
      random = dc.guildChannel('random');
      return accessJson({ groups: { [general.id]: { allowFrom: [], ...group } } });
    },
  });
  return { ...run, general, random, bob: run.dc.user(BOB_ID, 'bob') };
}

/** The events delivered so far other than barrier messages. */
export function chatEvents(host: FakeHost): ChannelEvent[] {
  return host.events.received.filter((event) => !event.content.startsWith('barrier '));
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
