/** Diagnostics go to stderr: stdout of a channel server carries JSON-RPC only. */
export type Log = (message: string) => void;

export function createLog(channelName: string): Log {
  return (message) => {
    process.stderr.write(`${channelName} channel: ${message}\n`);
  };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
