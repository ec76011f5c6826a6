/**
 * Which servers of a session may deliver channel events: the `--channels` entries, the
 * development-channel bypass, the approved plugin list and the organisation's managed settings,
 * applied in the order Claude Code applies them, each refusal with the notice it prints.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Marketplace, type ServerSpec, readPluginServers } from './plugins.js';

export type ChannelEntry = { kind: 'plugin'; plugin: string; marketplace: string } | { kind: 'server'; name: string };

export function formatEntry(entry: ChannelEntry): string {
  return entry.kind === 'plugin' ? `plugin:${entry.plugin}@${entry.marketplace}` : `server:${entry.name}`;
}

/** Parses `plugin:NAME@MARKETPLACE` or `server:NAME`; anything else is an error naming the entry. */
export function parseChannelEntry(text: string): ChannelEntry {
  if (text.startsWith('plugin:')) {
    const rest = text.slice('plugin:'.length);
    const at = rest.indexOf('@');
    if (at > 0 && at < rest.length - 1) return { kind: 'plugin', plugin: rest.slice(0, at), marketplace: rest.slice(at + 1) };
  } else if (text.startsWith('server:') && text.length > 'server:'.length) {
    return { kind: 'server', name: text.slice('server:'.length) };
  }
  throw new Error(`channel entries must be tagged: plugin:<name>@<marketplace> or server:<name> (got ${JSON.stringify(text)})`);
}

export interface ManagedSettings {
  /** Where they were read from; absent when there is no managed settings file. */
  path?: string;
  channelsEnabled?: boolean;
  allowedChannelPlugins?: Array<{ plugin: string; marketplace: string }>;
  /** Set when the file exists but cannot be used: channels are then blocked (fail closed). */
  error?: string;
}

/** Where Claude Code's managed settings live on this platform. */
export function defaultManagedSettingsPath(): string {
  if (process.platform === 'darwin') return '/Library/Application Support/ClaudeCode/managed-settings.json';
  if (process.platform === 'win32') return 'C:\\Program Files\\ClaudeCode\\managed-settings.json';
  return '/etc/claude-code/managed-settings.json';
}

export function readManagedSettings(path: string = defaultManagedSettingsPath()): ManagedSettings {
  if (!existsSync(path)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    return { path, error: `managed settings ${path} could not be read: ${(err as Error).message}` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { path, error: `managed settings ${path} must be a JSON object` };
  }
  const { channelsEnabled, allowedChannelPlugins } = data as Record<string, unknown>;
  const settings: ManagedSettings = { path };
  if (channelsEnabled !== undefined) {
    if (typeof channelsEnabled !== 'boolean') return { path, error: `managed settings ${path}: channelsEnabled must be true or false` };
    settings.channelsEnabled = channelsEnabled;
  }
  if (allowedChannelPlugins !== undefined) {
    const valid =
      Array.isArray(allowedChannelPlugins) &&
      allowedChannelPlugins.every(
        (p) => typeof p?.plugin === 'string' && typeof p?.marketplace === 'string',
      );
    if (!valid) {
      return { path, error: `managed settings ${path}: allowedChannelPlugins must be a list of {"plugin", "marketplace"}` };
    }
    settings.allowedChannelPlugins = allowedChannelPlugins as ManagedSettings['allowedChannelPlugins'];
  }
  return settings;
}

/** MCP servers configured for the working folder (`.mcp.json`) and the user (`~/.claude.json`). */
export function readConfiguredServers(cwd: string, env: NodeJS.ProcessEnv = process.env): Map<string, ServerSpec> {
  const servers = new Map<string, ServerSpec>();
  const userConfig = join(env.CLAUDE_CONFIG_DIR || homedir(), '.claude.json');
  for (const [file, dir] of [
    [userConfig, cwd],
    [join(cwd, '.mcp.json'), cwd],
  ] as const) {
    if (!existsSync(file)) continue;
    const specs = readPluginServers(dir, env, file);
    for (const spec of specs) servers.set(spec.name, { ...spec, cwd });
  }
  return servers;
}

export interface RegistrationInput {
  channels: ChannelEntry[];
  /** Entries of --dangerously-load-development-channels (already confirmed by the user). */
  development: ChannelEntry[];
  marketplaces: Marketplace[];
  configuredServers: Map<string, ServerSpec>;
  managed: ManagedSettings;
  /** The approved plugins when the organisation sets none: this repository's marketplace. */
  defaultAllowlist: Array<{ plugin: string; marketplace: string }>;
}

export interface Registration {
  entry: ChannelEntry;
  /** How to start the server; absent when there is nothing to start. */
  spec?: ServerSpec;
  /** Whether its events may reach the agent (still subject to it declaring claude/channel). */
  deliversEvents: boolean;
  /** Why it delivers no events, as the startup notice says it. */
  notice?: string;
}

/** Decides, for every entry of both lists, what runs and what delivers events. */
export function registerChannels(input: RegistrationInput): Registration[] {
  const seen = new Set<string>();
  const registrations: Registration[] = [];
  const entries = [
    ...input.development.map((entry) => ({ entry, development: true })),
    ...input.channels.map((entry) => ({ entry, development: false })),
  ];
  for (const { entry, development } of entries) {
    const key = formatEntry(entry);
    if (seen.has(key)) continue;
    seen.add(key);
    registrations.push(register(entry, development || input.development.some((d) => formatEntry(d) === key), input));
  }
  return registrations;
}

function register(entry: ChannelEntry, development: boolean, input: RegistrationInput): Registration {
  const name = formatEntry(entry);
  const skip = (spec: ServerSpec | undefined, why: string): Registration => ({
    entry,
    spec,
    deliversEvents: false,
    notice: `${name}: channel notifications skipped: ${why}`,
  });

  let spec: ServerSpec | undefined;
  if (entry.kind === 'server') {
    spec = input.configuredServers.get(entry.name);
    if (!spec) return skip(undefined, 'no MCP server configured with that name');
  } else {
    const marketplace = input.marketplaces.find((m) => m.name === entry.marketplace);
    const plugin = marketplace?.plugins.find((p) => p.name === entry.plugin);
    if (!plugin) return skip(undefined, 'plugin not installed');
    const [server] = readPluginServers(plugin.dir);
    if (!server) return skip(undefined, 'plugin declares no MCP server');
    spec = server;
  }

  const { managed } = input;
  if (managed.error) return skip(spec, `${managed.error}; channels are blocked until it is fixed`);
  if (managed.path && managed.channelsEnabled !== true) {
    return skip(spec, 'Channels are not enabled for your org · have an administrator set channelsEnabled: true in managed settings');
  }
  if (entry.kind === 'server') {
    return development ? { entry, spec, deliversEvents: true } : skip(spec, 'server: entries need --dangerously-load-development-channels');
  }
  if (development) return { entry, spec, deliversEvents: true };
  const orgList = managed.allowedChannelPlugins;
  const allowlist = orgList ?? input.defaultAllowlist;
  const approved = allowlist.some((p) => p.plugin === entry.plugin && p.marketplace === entry.marketplace);
  if (approved) return { entry, spec, deliversEvents: true };
  return skip(
    spec,
    orgList
      ? `plugin ${entry.plugin}@${entry.marketplace} is not on your org's approved channels list (set allowedChannelPlugins in managed settings)`
      : `plugin ${entry.plugin}@${entry.marketplace} is not on the approved channels allowlist (use --dangerously-load-development-channels for local dev)`,
  );
}
