/**
 * The channel's state directory (`~/.claude/channels/<name>/` by default) and its `.env` file,
 * laid out as the reference plugins lay it out so users can switch without re-pairing.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Log } from './log.js';

/** `<NAME>_STATE_DIR`, else `$CLAUDE_CONFIG_DIR/channels/<name>`, else `~/.claude/channels/<name>`. */
export function resolveStateDir(channelName: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[`${envPrefix(channelName)}_STATE_DIR`];
  if (override) return override;
  const configDir = env.CLAUDE_CONFIG_DIR || join(homedir(), '.claude');
  return join(configDir, 'channels', channelName);
}

/** `fake-chat` → `FAKE_CHAT`: the prefix of a channel's environment variables. */
export function envPrefix(channelName: string): string {
  return channelName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Parses `KEY=VALUE` lines. Survives what editors on Windows leave behind: a UTF-8 byte-order
 * mark and CRLF line endings. Accepts `export KEY=...`, `#` comments and quoted values.
 */
export function parseDotEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const rawLine of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    // A quoted value may be followed by a comment: KEY="a # b" # note → a # b.
    const quoted = /^(["'])(.*?)\1(?:\s+#.*)?$/.exec(match[2]!);
    values[match[1]!] = quoted ? quoted[2]! : match[2]!.replace(/\s+#.*$/, '');
  }
  return values;
}

/**
 * The settings a channel reads from `<state>/.env`, with the process environment taking
 * precedence. When both set a key to different values the override is logged, because a stale
 * shell variable silently beating the file is a classic cause of "invalid token".
 */
export class ChannelSettings {
  readonly envPath: string;
  private readonly fileValues: Record<string, string>;

  constructor(
    readonly stateDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    log?: Log,
  ) {
    this.envPath = join(stateDir, '.env');
    this.fileValues = readDotEnvFile(this.envPath, log);
    for (const [key, value] of Object.entries(this.fileValues)) {
      const fromEnv = env[key];
      if (fromEnv !== undefined && fromEnv !== value) {
        log?.(`${key} from the environment overrides the value in ${this.envPath}`);
      }
    }
  }

  get(key: string): string | undefined {
    const value = this.env[key] ?? this.fileValues[key];
    return value === '' ? undefined : value;
  }
}

function readDotEnvFile(path: string, log?: Log): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    chmodSync(path, 0o600); // it holds tokens
  } catch (err) {
    log?.(`could not restrict ${path} to mode 0600: ${(err as Error).message}`);
  }
  return parseDotEnv(text);
}

/**
 * Writes a file so that a reader sees the old or the new content, never half of either:
 * `<path>.tmp` created with the given mode, flushed, then renamed over the target.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode); // openSync's mode is masked by the umask and ignored for an existing file
  renameSync(tmp, path);
}
