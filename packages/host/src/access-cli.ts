/**
 * `openchannels access <channel> …` and `openchannels configure <channel> …`: the terminal user's
 * side of a channel's access.json and bot token, the operations of the `/<channel>:access` and
 * `/<channel>:configure` skills for use from any shell. They work on the same state directory
 * the channel uses (`<NAME>_STATE_DIR`, else `$CLAUDE_CONFIG_DIR/channels/<name>`), and a running
 * channel sees access changes on its next message.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  AccessStore,
  type DmPolicy,
  envPrefix,
  errorText,
  parseDotEnv,
  resolveStateDir,
  writeFileAtomic,
} from '@openchannels/kit';

export const ACCESS_USAGE = `usage: openchannels access <channel> [command]
  status                             policy, allowlist, pending pairing codes, groups (the default)
  pair <code>                        approve a pending code: the sender is allowlisted and told so
  deny <code>                        drop a pending code (the sender is not told)
  allow <id> | remove <id>           add a sender id to the allowlist, or take it off
  policy pairing|allowlist|disabled  who may start a conversation
  group add <key> [--no-mention] [--allow id1,id2]
                                     admit a group; by default only messages mentioning the bot pass
  group rm <key>
  set <key> <value>                  ackReaction, replyToMode, textChunkLimit, chunkMode, mentionPatterns,
                                     permissionPrompts
channels: telegram, discord, imessage`;

export const CONFIGURE_USAGE = `usage: openchannels configure <channel> [<token> | clear]
  (no argument)   show the token (masked), the access state and what to do next
  <token>         save <CHANNEL>_BOT_TOKEN in the channel's .env (mode 600)
  clear           remove it
channels: telegram, discord`;

/** Channels with an access.json, and the policy each assumes when the file does not say. */
const GATED_CHANNELS: Record<string, DmPolicy> = { telegram: 'pairing', discord: 'pairing', imessage: 'allowlist' };
/** Channels whose credential is a bot token. */
const TOKEN_CHANNELS = ['telegram', 'discord'];

class UsageError extends Error {}

export function runAccess(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const [channel, command = 'status', ...rest] = args;
  if (!channel || channel === '--help' || channel === '-h') {
    console.log(ACCESS_USAGE);
    return channel ? 0 : 1;
  }
  try {
    const defaultDmPolicy = GATED_CHANNELS[channel];
    if (!defaultDmPolicy) throw new UsageError(`unknown channel ${JSON.stringify(channel)}`);
    const stateDir = resolveStateDir(channel, env);
    // The environment's static mode is the server's business: these are the user's own edits.
    const store = new AccessStore({
      name: channel,
      stateDir,
      defaultDmPolicy,
      env: {},
      log: (line) => console.error(line),
    });
    console.log(accessCommand(store, channel, command, rest));
    return 0;
  } catch (err) {
    console.error(`openchannels access: ${errorText(err)}`);
    if (err instanceof UsageError) console.error(ACCESS_USAGE);
    return 1;
  }
}

function accessCommand(store: AccessStore, channel: string, command: string, args: string[]): string {
  const arg = (what: string) => {
    const value = args[0];
    if (value === undefined || value === '') throw new UsageError(`${command} needs ${what}`);
    return value;
  };
  switch (command) {
    case 'status':
      return `${store.path}\n${store.status()}`;
    case 'pair': {
      const paired = store.pair(arg('a code'));
      return `Paired ${paired.senderId}. While the channel runs, it tells them within seconds ("Paired! Say hi to Claude.").`;
    }
    case 'deny': {
      const denied = store.deny(arg('a code'));
      return `Dropped the pending code of ${denied.senderId}; they are not told.`;
    }
    case 'allow': {
      const id = arg('a sender id');
      return store.allow(id) ? `Allowlisted ${id}.` : `${id} was already allowlisted.`;
    }
    case 'remove': {
      const id = arg('a sender id');
      if (!store.remove(id)) throw new Error(`${id} is not on the allowlist`);
      return `Removed ${id} from the allowlist.`;
    }
    case 'policy': {
      const mode = arg('a policy (pairing, allowlist or disabled)');
      store.setPolicy(mode);
      return mode === 'pairing'
        ? 'dmPolicy is now pairing: anyone who messages the bot gets a code. Switch to allowlist once everyone is paired.'
        : `dmPolicy is now ${mode}.`;
    }
    case 'group':
      return groupCommand(store, channel, args);
    case 'set': {
      const [key, ...value] = args;
      if (!key || value.length === 0) throw new UsageError('set needs a key and a value');
      store.set(key, value.join(' '));
      return `Set ${key}.`;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

function groupCommand(store: AccessStore, channel: string, args: string[]): string {
  const [action, key, ...options] = args;
  if (!key || (action !== 'add' && action !== 'rm')) throw new UsageError('group needs add <key> or rm <key>');
  if (action === 'rm') {
    if (!store.removeGroup(key)) throw new Error(`no group ${key} is configured`);
    return `Removed group ${key}.`;
  }
  let requireMention = true;
  let allowFrom: string[] = [];
  for (let i = 0; i < options.length; i++) {
    if (options[i] === '--no-mention') requireMention = false;
    else if (options[i] === '--allow' && options[i + 1])
      allowFrom = options[++i]!.split(',')
        .map((id) => id.trim())
        .filter(Boolean);
    else throw new UsageError(`unknown group option ${JSON.stringify(options[i])}`);
  }
  store.addGroup(key, { requireMention, allowFrom });
  const who = allowFrom.length ? `members ${allowFrom.join(', ')}` : 'any member';
  const privacy =
    channel === 'telegram' && !requireMention
      ? '\nTelegram shows bots only mentions and replies in groups unless privacy mode is off: BotFather → /setprivacy → Disable.'
      : '';
  return `Admitted group ${key}: ${requireMention ? 'messages that mention the bot' : 'every message'}, from ${who}.${privacy}`;
}

export function runConfigure(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const [channel, value] = args;
  if (!channel || channel === '--help' || channel === '-h') {
    console.log(CONFIGURE_USAGE);
    return channel ? 0 : 1;
  }
  try {
    if (!TOKEN_CHANNELS.includes(channel)) throw new UsageError(`unknown channel ${JSON.stringify(channel)}`);
    const stateDir = resolveStateDir(channel, env);
    const envPath = join(stateDir, '.env');
    const key = `${envPrefix(channel)}_BOT_TOKEN`;
    if (value === 'clear') {
      const removed = saveToken(envPath, key, undefined);
      console.log(removed ? `Removed ${key} from ${envPath}.` : `${key} was not set in ${envPath}.`);
    } else if (value !== undefined) {
      const token = value.trim();
      if (!token || /\s/.test(token)) throw new Error('a token is one word, without spaces');
      if (channel === 'telegram' && !/^\d+:[A-Za-z0-9_-]{20,}$/.test(token)) {
        console.error(
          'warning: that does not look like a Telegram bot token (123456789:AA…, from @BotFather); saved anyway',
        );
      }
      saveToken(envPath, key, token);
      console.log(
        `Saved ${key} in ${envPath} (mode 600). A running session uses it after a restart or /reload-plugins; access changes apply at once.`,
      );
    }
    console.log(configureStatus(channel, stateDir, envPath, key, env));
    return 0;
  } catch (err) {
    console.error(`openchannels configure: ${errorText(err)}`);
    if (err instanceof UsageError) console.error(CONFIGURE_USAGE);
    return 1;
  }
}

/**
 * Sets `KEY=token` in a .env file, or removes it when `token` is undefined, keeping every other
 * line as it was; a file left without content is deleted. Returns whether the key was present.
 */
function saveToken(path: string, key: string, token: string | undefined): boolean {
  const text = existsSync(path) ? readFileSync(path, 'utf8').replace(/^\uFEFF/, '') : '';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text ? text.replace(/\r?\n$/, '').split(/\r?\n/) : [];
  const isKey = (line: string) => new RegExp(`^\\s*(export\\s+)?${key}\\s*=`).test(line);
  const present = lines.some(isKey);
  const kept = lines.filter((line) => !isKey(line));
  if (token !== undefined) kept.push(`${key}=${token}`);
  if (kept.every((line) => !line.trim())) {
    rmSync(path, { force: true });
  } else {
    writeFileAtomic(path, kept.join(eol) + eol);
  }
  return present;
}

function configureStatus(
  channel: string,
  stateDir: string,
  envPath: string,
  key: string,
  env: NodeJS.ProcessEnv,
): string {
  const fileToken = readDotEnvValue(envPath, key);
  const lines = [`${channel}: state in ${stateDir}`];
  lines.push(fileToken ? `token: ${mask(fileToken)} (in ${envPath})` : `token: not set in ${envPath}`);
  if (env[key])
    lines.push(`note: ${key} is also set in this shell's environment; a channel started from here uses that one`);
  const store = new AccessStore({
    name: channel,
    stateDir,
    defaultDmPolicy: GATED_CHANNELS[channel]!,
    env: {},
    log: () => {},
  });
  const access = store.load();
  const pending = Object.keys(access.pending).length;
  lines.push(
    `access: dmPolicy ${access.dmPolicy}; allowlist (${access.allowFrom.length}): ${access.allowFrom.join(', ') || 'nobody'}; ` +
      `pending codes: ${pending}; groups: ${Object.keys(access.groups).length}`,
  );
  let next: string;
  if (!fileToken && !env[key]) {
    next = `create a bot with @BotFather (/newbot) and save its token: openchannels configure ${channel} <token>`;
  } else if (access.dmPolicy === 'disabled') {
    next = `the channel is switched off (dmPolicy disabled); turn it on with: openchannels access ${channel} policy allowlist`;
  } else if (access.allowFrom.length === 0) {
    next = `message your bot; it answers with a code; approve it with: openchannels access ${channel} pair <code>`;
  } else if (access.dmPolicy === 'pairing') {
    next =
      `is that everyone who should reach you through this bot? Pairing is for capturing ids; lock it down with: ` +
      `openchannels access ${channel} policy allowlist`;
  } else {
    next = 'locked down: only the allowlisted ids reach your session';
  }
  lines.push(`next: ${next}`);
  return lines.join('\n');
}

function readDotEnvValue(path: string, key: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return parseDotEnv(readFileSync(path, 'utf8'))[key] || undefined;
}

/** Enough of a token to recognise it (a Telegram token starts with the bot's public id), never enough to use it. */
function mask(token: string): string {
  return `${token.slice(0, Math.min(10, Math.floor(token.length / 3)))}...`;
}
