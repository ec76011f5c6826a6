/**
 * Running the telegram channel in tests as Claude Code runs it (the plugin's .mcp.json, under a
 * fake host) against a fake Bot API, with its own state directory per test.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  type AccessFile,
  FakeHost,
  FakeTelegram,
  type SavedAccess,
  type TgUser,
  readAccessFile,
  repoRoot,
  tempStateDir,
  writeAccessFile,
} from '@openchannels/testkit';
import type { ChannelEvent } from '@openchannels/kit';

export const pluginDir = join(repoRoot, 'channels/telegram');

/** The bot's username in every test. */
export const BOT = 'claude_test_bot';
/** An allowlisted user, in every run's access.json unless a test says otherwise. */
export const ALICE_ID = 111;
/** A supergroup id as Telegram gives them. */
export const GROUP_ID = -1001234567890;

export interface RunOptions {
  /** access.json as written before start; null writes none. Default: pairing, Alice allowlisted. */
  access?: AccessFile | null;
  /** `<state>/.env` contents, given the fake (for its token and API root). */
  dotEnv?: (tg: FakeTelegram) => string;
  /** Leave TELEGRAM_BOT_TOKEN out of the environment (e.g. to read it from .env). */
  tokenInEnv?: boolean;
  /** Extra environment, or a function of the fake giving it. */
  env?: Record<string, string> | ((tg: FakeTelegram) => Record<string, string>);
}

export interface TelegramRun {
  host: FakeHost;
  tg: FakeTelegram;
  stateDir: string;
  alice: TgUser;
  writeAccess(access: AccessFile): void;
  readAccess(): SavedAccess;
  /** Sends a DM from Alice and waits for its event: everything Telegram delivered before has been handled. */
  barrier(): Promise<void>;
}

export function accessJson(overrides: AccessFile = {}): AccessFile {
  return { dmPolicy: 'pairing', allowFrom: [String(ALICE_ID)], groups: {}, pending: {}, ...overrides };
}

/** The environment of a run: token and API root of the fake, the state dir, short polls. */
export function telegramEnv(tg: FakeTelegram, stateDir: string): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_STATE_DIR: stateDir,
    TELEGRAM_POLL_TIMEOUT_SECONDS: '2',
    TELEGRAM_ACCESS_MODE: '',
  };
}

let barriers = 0;

/** Starts a fake Bot API and the channel against it; both end with the test. */
export async function startTelegram(t: TestContext, options: RunOptions = {}): Promise<TelegramRun> {
  const tg = await FakeTelegram.start({ username: BOT });
  const stateDir = tempStateDir('telegram-');
  const writeAccess = (access: AccessFile) => writeAccessFile(stateDir, access);
  if (options.access !== null) writeAccess(options.access ?? accessJson());
  if (options.dotEnv) writeFileSync(join(stateDir, '.env'), options.dotEnv(tg));
  const { TELEGRAM_BOT_TOKEN, ...withoutToken } = telegramEnv(tg, stateDir);
  const env = {
    ...(options.tokenInEnv === false ? withoutToken : { ...withoutToken, TELEGRAM_BOT_TOKEN }),
    ...(typeof options.env === 'function' ? options.env(tg) : options.env),
  };
  let host: FakeHost;
  try {
    host = await FakeHost.plugin(pluginDir, { env });
  } catch (err) {
    await tg.close();
    throw err;
  }
  t.after(async () => {
    await host.close();
    await tg.close();
    rmSync(stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  const alice = tg.user(ALICE_ID, 'alice', 'Alice');
  tg.chatWith(alice);
  return {
    host,
    tg,
    stateDir,
    alice,
    writeAccess,
    readAccess: () => readAccessFile(stateDir),
    barrier: async () => {
      const text = `barrier ${++barriers}`;
      tg.dm(alice, text);
      await host.nextEvent((event) => event.content === text);
    },
  };
}

/** The events delivered so far other than barrier messages. */
export function chatEvents(host: FakeHost): ChannelEvent[] {
  return host.events.received.filter((event) => !event.content.startsWith('barrier '));
}

/** The text of the bot's messages to a chat so far. */
export function sentTexts(tg: FakeTelegram, chatId: number): string[] {
  return tg
    .callsTo('sendMessage')
    .filter((call) => Number(call.params.chat_id) === chatId)
    .map((call) => String(call.params.text));
}
