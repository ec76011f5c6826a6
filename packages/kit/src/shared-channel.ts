/**
 * A chat channel whose bot is shared by every session (see hub.ts), wired once for every
 * platform: the MCP server, shutdown from the start, the hub, and permission prompts relayed to
 * the leading session, which shows them because the answers (button presses) arrive there.
 */
import { basename } from 'node:path';
import { Channel, type ChannelOptions } from './channel.js';
import type { PermissionRequest } from './contract.js';
import { Hub, type LeaderContext, type PlatformConnection } from './hub.js';
import { runUntilStdinCloses } from './lifecycle.js';
import { type Log, errorText } from './log.js';
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

export async function runSharedChannel(options: SharedChannelOptions): Promise<void> {
  const { stateDir, log, tools, lead, ...channelOptions } = options;
  let hub: Hub | undefined;
  const channel: Channel = new Channel({
    ...channelOptions,
    tools: tools(() => hub?.replyPrefix() ?? ''),
    onPermissionRequest: async (request) => {
      if (!(await hub?.tellLeader({ type: 'permission_request', request } satisfies PromptMessage))) {
        log(`permission request ${request.request_id} not relayed: the bot connection is changing hands`);
      }
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
}
