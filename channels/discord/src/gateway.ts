/**
 * The leader's gateway connection: dispatches go to the inbound pipeline, every (re)connection
 * triggers a catch-up over REST, and what happens to the connection is said on stderr — with
 * what to do when Discord refuses the bot for good (a revoked token, a missing intent), once.
 */
import {
  type APIMessage,
  type APIMessageComponentInteraction,
  ComponentType,
  GatewayDispatchEvents,
  GatewayIntentBits,
  InteractionType,
} from '@discordjs/core/http-only';
import { CloseCodes, WebSocketManager, WebSocketShardEvents } from '@discordjs/ws';
import type { Log } from '@openchannels/kit';
import { type DiscordConnector, describeError } from './connector.js';

/** What the bot asks Discord to send it. */
const INTENTS =
  GatewayIntentBits.DirectMessages |
  GatewayIntentBits.Guilds |
  GatewayIntentBits.GuildMessages |
  // Privileged: without it (Developer Portal → Bot) guild messages arrive with empty content.
  GatewayIntentBits.MessageContent;

/** Close codes after which Discord will not take the bot back without the user acting. */
const FATAL_ADVICE: Record<number, (envPath: string) => string> = {
  4004: (envPath) =>
    'Discord refused the bot token (close code 4004: authentication failed); it was probably reset or revoked. ' +
    `Copy a new token from the Developer Portal (Bot → Reset Token) into DISCORD_BOT_TOKEN in ${envPath}, then restart the session.`,
  4014: () =>
    'Discord refused the requested intents (close code 4014). Turn on MESSAGE CONTENT INTENT in the Developer Portal (Bot → Privileged Gateway Intents), then restart the session.',
};

export interface GatewayHandlers {
  message(message: APIMessage & { guild_id?: string }): void;
  press(interaction: APIMessageComponentInteraction): void;
  /** After READY or RESUMED: fetch what arrived while the connection was down. */
  connected(): void;
}

export class Gateway {
  private readonly manager: WebSocketManager;
  private reportedFatal = false;
  private destroyed = false;

  constructor(
    connector: DiscordConnector,
    token: string,
    log: Log,
    envPath: string,
    handlers: GatewayHandlers,
  ) {
    this.manager = new WebSocketManager({ token, intents: INTENTS, rest: connector.rest });
    const manager = this.manager;
    manager.on(WebSocketShardEvents.Dispatch, (payload) => {
      if (payload.t === GatewayDispatchEvents.MessageCreate) handlers.message(payload.d);
      else if (
        payload.t === GatewayDispatchEvents.InteractionCreate &&
        payload.d.type === InteractionType.MessageComponent &&
        payload.d.data.component_type === ComponentType.Button
      ) {
        handlers.press(payload.d as APIMessageComponentInteraction);
      }
    });
    manager.on(WebSocketShardEvents.Ready, (data) => {
      connector.botId = data.user.id;
      log(`gateway connected as ${data.user.username} (new session)`);
      handlers.connected();
    });
    manager.on(WebSocketShardEvents.Resumed, () => {
      log('gateway session resumed');
      handlers.connected();
    });
    manager.on(WebSocketShardEvents.Closed, (code) => {
      if (this.destroyed) return;
      const advice = FATAL_ADVICE[code];
      if (advice) {
        if (!this.reportedFatal) log(advice(envPath));
        this.reportedFatal = true;
        return;
      }
      // The client closes with its own code when it gives a connection up to resume; the reason was said.
      if (code === CloseCodes.Resuming) return;
      log(`gateway connection closed (code ${code}); reconnecting`);
    });
    manager.on(WebSocketShardEvents.Debug, (message) => {
      // Invalid sessions and dead connections are otherwise silent: the next line is a fresh READY or RESUMED.
      if (message.includes('Invalid session')) log('gateway session invalidated by Discord; identifying anew');
      else if (message.includes('Reason: Zombie connection')) {
        log('gateway heartbeat not acknowledged by Discord: the connection is dead; reconnecting to resume');
      }
    });
    manager.on(WebSocketShardEvents.Error, (err) => {
      // The fatal close codes come with an error of their own; their advice says it all.
      if (!this.reportedFatal) log(`client error: ${describeError(err)}`);
    });
  }

  async connect(): Promise<void> {
    await this.manager.connect();
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.manager.destroy();
  }
}
