/**
 * Long polling of the Bot API (`getUpdates`), written for a channel that must never go deaf
 * while its tools keep working: every failure is retried and reported on stderr with its cause,
 * and an update is confirmed to Telegram (by asking for the next offset) only after `onUpdates`
 * has handled it, so nothing is lost when the process stops half-way.
 */
import type { Log } from '@openchannels/kit';
import { type Api, GrammyError } from 'grammy';
import type { Update } from 'grammy/types';
import { apiSignal, describeApiError } from './connector.js';

export interface RetryDelays {
  /** The delay grows by this much per consecutive failure... */
  stepMs: number;
  /** ...up to this. */
  maxMs: number;
  /** While Telegram refuses the token, retries are this far apart. */
  unauthorizedMs: number;
}

export interface PollerOptions {
  api: Api;
  log: Log;
  /**
   * Runs before the first poll, and again after a failure that may have undone it (the token
   * refused, a webhook set by someone else): identify the bot, remove a webhook, register commands.
   */
  prepare(signal: AbortSignal): Promise<void>;
  /**
   * Handles a batch of updates, in order. The updates are confirmed to Telegram only once this
   * resolves; when it throws they stay unconfirmed and come again with the next poll.
   */
  onUpdates(updates: Update[], signal: AbortSignal): Promise<void>;
  allowedUpdates: readonly string[];
  /** How long Telegram holds a poll open when there is nothing to deliver. */
  timeoutSeconds?: number;
  delays?: Partial<RetryDelays>;
}

const DEFAULT_DELAYS: RetryDelays = { stepMs: 1000, maxMs: 15_000, unauthorizedMs: 30_000 };
/** A poll that outlives its timeout by this much is taken for a dead connection. */
const STALL_GRACE_MS = 15_000;

export class Poller {
  private offset?: number;
  private stopped = false;
  private loop?: Promise<void>;
  private readonly abort = new AbortController();
  private wake?: () => void;
  private readonly delays: RetryDelays;
  private readonly timeoutSeconds: number;

  constructor(private readonly options: PollerOptions) {
    this.delays = { ...DEFAULT_DELAYS, ...options.delays };
    this.timeoutSeconds = options.timeoutSeconds ?? 30;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends polling: the poll Telegram is holding is abandoned at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let prepared = false;
    let failures = 0;
    let refusedTokenReported = false;
    let conflicts = 0;
    while (!this.stopped) {
      try {
        if (!prepared) {
          await this.options.prepare(this.abort.signal);
          prepared = true;
        }
        const updates = await this.poll();
        if (updates.length) {
          try {
            await this.options.onUpdates(updates, this.abort.signal);
          } catch (err) {
            throw new HandlingFailed(err);
          }
          this.offset = updates[updates.length - 1]!.update_id + 1;
        }
        if (failures) this.options.log(`polling resumed after ${failures} failed attempt(s)`);
        failures = 0;
        conflicts = 0;
        refusedTokenReported = false;
      } catch (err) {
        if (this.stopped) break;
        failures++;
        const code = err instanceof GrammyError ? err.error_code : undefined;
        const cause = describeApiError(err instanceof HandlingFailed ? err.cause : err);
        let delay = Math.min(this.delays.stepMs * failures, this.delays.maxMs);
        if (code === 401) {
          prepared = false;
          delay = this.delays.unauthorizedMs;
          // Said once: the token is wrong until the user changes it, and repeating helps nobody.
          if (!refusedTokenReported) {
            refusedTokenReported = true;
            this.options.log(
              `Telegram refused the bot token (401 ${cause}). Check it with /telegram:configure or ` +
                `\`openchannels configure telegram <token>\`, then restart the session or run /reload-plugins. ` +
                `Retrying every ${seconds(delay)} meanwhile.`,
            );
          }
        } else if (code === 409) {
          conflicts++;
          // A webhook set elsewhere blocks polling until it is removed again.
          if (/webhook/i.test(cause)) prepared = false;
          this.options.log(
            conflicts === 1
              ? `409 Conflict — another process is polling this bot token (a second Claude Code session, ` +
                  `or a stray server left running?). Only one poller receives messages. Retrying in ${seconds(delay)} (${cause})`
              : `409 Conflict persists (attempt ${conflicts}): another poller still holds the token, retrying in ${seconds(delay)}`,
          );
        } else if (code === 429) {
          const retryAfter = err instanceof GrammyError ? err.parameters.retry_after : undefined;
          if (retryAfter !== undefined) delay = retryAfter * 1000;
          this.options.log(`Telegram asked to slow down (429 ${cause}), retrying in ${seconds(delay)}`);
        } else if (err instanceof HandlingFailed) {
          this.options.log(
            `could not hand updates over (they stay unconfirmed and come again): ${cause}, retrying in ${seconds(delay)}`,
          );
        } else {
          this.options.log(`polling error: ${code ? `${code} ` : ''}${cause}, retrying in ${seconds(delay)}`);
        }
        await this.sleep(delay);
      }
    }
  }

  private async poll(): Promise<Update[]> {
    const request = new AbortController();
    const cancel = () => request.abort();
    // A connection that died without a word would hold the poll for grammY's 500 s timeout.
    const stalled = setTimeout(cancel, this.timeoutSeconds * 1000 + STALL_GRACE_MS);
    this.abort.signal.addEventListener('abort', cancel);
    if (this.abort.signal.aborted) cancel();
    try {
      return await this.options.api.getUpdates(
        {
          ...(this.offset !== undefined ? { offset: this.offset } : {}),
          timeout: this.timeoutSeconds,
          allowed_updates: [...this.options.allowedUpdates] as NonNullable<
            Parameters<Api['getUpdates']>[0]
          >['allowed_updates'],
        },
        apiSignal(request.signal),
      );
    } finally {
      clearTimeout(stalled);
      this.abort.signal.removeEventListener('abort', cancel);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** `onUpdates` failed: the updates were fetched but not handed over. */
class HandlingFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('handling updates failed');
  }
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${ms}ms`;
}
