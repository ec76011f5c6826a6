/**
 * A chat channel whose bot is shared by every session (see hub.ts), wired once for every
 * platform: its start-up (state, settings, token, access), the MCP server, shutdown from the
 * start, the hub, and permission prompts relayed to the leading session, which shows them because
 * the answers (button presses) arrive there.
 */
import { basename } from 'node:path';
import { AccessStore } from './access.js';
import { Channel, type ChannelOptions } from './channel.js';
import type { PermissionRequest } from './contract.js';
import { Hub, type LeaderContext, type PlatformConnection } from './hub.js';
import { runUntilStdinCloses } from './lifecycle.js';
import { type Log, createLog, errorText } from './log.js';
import { ChannelSettings, ensureDir, envPrefix, resolveStateDir } from './state.js';
import type { ToolDefinition } from './tools.js';

/** What the leading session's platform connection offers besides stopping. */
export interface LedConnection extends PlatformConnection {
  /** Shows a permission prompt on the platform; `session` names the asking session while several share the bot. */
  showPrompt(request: PermissionRequest, session: string | undefined): Promise<void>;
}

export interface SharedChannelOptions extends Omit<ChannelOptions, 'tools' | 'onPermissionRequest'> {
  stateDir: string;
  log: Log;
  /** The tools, given the prefix that names this session while several are attached. */
  tools(replyPrefix: () => string): readonly ToolDefinition[];
  /** Starts the platform connection: called only in the session that leads the hub. */
  lead(context: LeaderContext): Promise<LedConnection>;
}

interface PromptMessage {
  type: 'permission_request';
  request: PermissionRequest;
}

export interface BotSetup {
  log: Log;
  stateDir: string;
  settings: ChannelSettings;
  token: string;
  /** `<NAME>_API_ROOT` (for tests against a fake), else the platform's own, without a trailing slash. */
  apiRoot: string;
  access: AccessStore;
}

/**
 * What a bot channel reads before anything else: its state directory, settings (the environment,
 * then `<state>/.env`), the bot token — without one it says where to put it and exits 1 — and its
 * access.json, pairing by default.
 */
export function setUpBot(name: string, options: { tokenExample: string; defaultApiRoot: string }): BotSetup {
  const log = createLog(name);
  const stateDir = resolveStateDir(name);
  const settings = new ChannelSettings(stateDir, process.env, log);
  const prefix = envPrefix(name);
  const token = settings.get(`${prefix}_BOT_TOKEN`);
  if (!token) {
    process.stderr.write(
      `${name} channel: ${prefix}_BOT_TOKEN required\n  set in ${settings.envPath}\n  format: ${prefix}_BOT_TOKEN=${options.tokenExample}\n`,
    );
    process.exit(1);
  }
  const apiRoot = (settings.get(`${prefix}_API_ROOT`) ?? options.defaultApiRoot).replace(/\/+$/, '');
  ensureDir(stateDir);
  const access = new AccessStore({ name, stateDir, defaultDmPolicy: 'pairing', log });
  return { log, stateDir, settings, token, apiRoot, access };
}

export async function runSharedChannel(options: SharedChannelOptions): Promise<void> {
  const { stateDir, log, tools, lead, ...channelOptions } = options;
  let hub: Hub | undefined;
  let joinedHub!: (hub: Hub) => void;
  const hubJoined = new Promise<Hub>((resolve) => (joinedHub = resolve));
  const channel: Channel = new Channel({
    ...channelOptions,
    tools: tools(() => hub?.replyPrefix() ?? ''),
    // A prompt that comes while the hub is being joined waits for it; the hub keeps it while the
    // connection changes hands.
    onPermissionRequest: async (request) => {
      await (await hubJoined).tellLeader({ type: 'permission_request', request } satisfies PromptMessage);
    },
  });
  // Signals and a closed stdin are handled from the start: a session may end while the hub is being joined.
  runUntilStdinCloses({
    log,
    cleanup: async () => {
      await hub?.close();
      await channel.close();
    },
  });
  await channel.connect();
  hub = await Hub.join({
    stateDir,
    log,
    label: basename(process.env.CLAUDE_PROJECT_DIR || process.cwd()),
    deliver: ({ content, meta }) => channel.emit(content, meta),
    onVerdict: ({ request_id, behavior }) => {
      channel.sendVerdict(request_id, behavior).catch((err) => log(`could not pass on a verdict: ${errorText(err)}`));
    },
    lead: (context) => {
      // Prompts sent while the connection starts wait for it rather than being lost.
      const connection = lead(context);
      context.onMessage(async (message, from) => {
        const { request } = message as PromptMessage;
        await (await connection).showPrompt(request, context.sessions().length > 1 ? from.label : undefined);
      });
      return connection;
    },
  });
  joinedHub(hub);
}
