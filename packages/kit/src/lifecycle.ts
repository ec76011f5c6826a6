/**
 * A channel server lives exactly as long as its session: it exits when stdin closes or on a
 * signal, within two seconds, releasing its ports, and never lingers as an orphan.
 */
import { type Log, errorText } from './log.js';

const FORCED_EXIT_MS = 1500;

export interface LifecycleOptions {
  log: Log;
  /** Releases ports, timers and connections. Bounded by the forced exit. */
  cleanup: () => Promise<void> | void;
  stdin?: NodeJS.ReadableStream;
}

export function runUntilStdinCloses({ log, cleanup, stdin = process.stdin }: LifecycleOptions): void {
  let stopping = false;
  const shutdown = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`shutting down (${why})`);
    setTimeout(() => process.exit(0), FORCED_EXIT_MS).unref();
    Promise.resolve()
      .then(cleanup)
      .catch((err) => log(`cleanup failed: ${errorText(err)}`))
      .finally(() => process.exit(0));
  };
  stdin.on('end', () => shutdown('stdin closed'));
  stdin.on('close', () => shutdown('stdin closed'));
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => shutdown(signal));
  }
  // A bug in one handler must not take the channel down with the session still running.
  process.on('unhandledRejection', (err) => log(`unhandled rejection: ${errorText(err)}`));
  process.on('uncaughtException', (err) => log(`uncaught exception: ${errorText(err)}`));
}
