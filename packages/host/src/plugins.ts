/**
 * Where channel servers come from: a marketplace (`.claude-plugin/marketplace.json`) lists plugin
 * folders; a plugin's `.mcp.json` says how to start its server, as Claude Code reads it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerSpec {
  /** The server's configured name: the `source` of its events. */
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

interface McpServerEntry {
  command?: unknown;
  args?: unknown;
  env?: unknown;
}

/** This repository, the default marketplace: `<root>/packages/host/dist/src/plugins.js`. */
export const DEFAULT_MARKETPLACE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface MarketplacePlugin {
  name: string;
  dir: string;
  description?: string;
}

export interface Marketplace {
  name: string;
  root: string;
  plugins: MarketplacePlugin[];
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${what} not found: ${path}`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${path}: ${(err as Error).message}`);
  }
}

export function readMarketplace(root: string = DEFAULT_MARKETPLACE_ROOT): Marketplace {
  const path = join(root, '.claude-plugin', 'marketplace.json');
  const data = readJson(path, 'marketplace') as { name?: unknown; plugins?: unknown };
  if (typeof data.name !== 'string' || !Array.isArray(data.plugins)) {
    throw new Error(`marketplace ${path} needs a "name" and a "plugins" list`);
  }
  const plugins = data.plugins.flatMap((entry: { name?: unknown; source?: unknown; description?: unknown }) =>
    typeof entry.name === 'string' && typeof entry.source === 'string'
      ? [{ name: entry.name, dir: resolve(root, entry.source), description: entry.description as string | undefined }]
      : [],
  );
  return { name: data.name, root, plugins };
}

/**
 * Expands `${CLAUDE_PLUGIN_ROOT}`, `${VAR}` and `${VAR:-default}` in a `.mcp.json` string, the
 * way Claude Code does before it starts the server.
 */
export function expandVariables(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_all, name: string, fallback?: string) => {
    const found = vars[name];
    return found !== undefined && found !== '' ? found : (fallback ?? '');
  });
}

/**
 * Reads the servers an MCP configuration file declares (a plugin folder's `.mcp.json` unless
 * `configPath` names another), with variables expanded; `${CLAUDE_PLUGIN_ROOT}` is `pluginDir`.
 */
export function readPluginServers(
  pluginDir: string,
  env: NodeJS.ProcessEnv = process.env,
  configPath?: string,
): ServerSpec[] {
  const root = resolve(pluginDir);
  const path = configPath ?? join(root, '.mcp.json');
  const data = readJson(path, 'MCP server configuration') as { mcpServers?: unknown };
  // A plugin's .mcp.json may list servers at its top level; other files only under mcpServers.
  const servers = (data.mcpServers ?? (configPath ? {} : data)) as Record<string, McpServerEntry>;
  const vars = { ...env, CLAUDE_PLUGIN_ROOT: root };
  return Object.entries(servers).map(([name, entry]) => {
    if (typeof entry?.command !== 'string') throw new Error(`${path}: server "${name}" has no command`);
    const args = Array.isArray(entry.args) ? entry.args.map((a) => expandVariables(String(a), vars)) : [];
    const serverEnv: Record<string, string> = {};
    if (entry.env && typeof entry.env === 'object') {
      for (const [key, value] of Object.entries(entry.env)) serverEnv[key] = expandVariables(String(value), vars);
    }
    return { name, command: expandVariables(entry.command, vars), args, env: serverEnv, cwd: root };
  });
}

/**
 * Resolves what a user names on the command line: a plugin in the marketplace (`fakechat` or
 * `fakechat@openchannels`), or a plugin folder holding a `.mcp.json`.
 */
export function resolvePluginServer(nameOrDir: string, marketplaceRoot?: string): ServerSpec {
  if (existsSync(join(nameOrDir, '.mcp.json'))) return onlyServer(readPluginServers(nameOrDir), nameOrDir);
  const at = nameOrDir.indexOf('@');
  const pluginName = at > 0 ? nameOrDir.slice(0, at) : nameOrDir;
  const marketplace = readMarketplace(marketplaceRoot);
  if (at > 0 && nameOrDir.slice(at + 1) !== marketplace.name) {
    throw new Error(`plugin ${nameOrDir} is not from marketplace ${marketplace.name}`);
  }
  const plugin = marketplace.plugins.find((p) => p.name === pluginName);
  if (!plugin) {
    const known = marketplace.plugins.map((p) => p.name).join(', ');
    throw new Error(`no plugin named ${pluginName} in marketplace ${marketplace.name} (it has: ${known})`);
  }
  return onlyServer(readPluginServers(plugin.dir), plugin.dir);
}

function onlyServer(servers: ServerSpec[], where: string): ServerSpec {
  if (servers.length !== 1) throw new Error(`${where}: expected one server in .mcp.json, found ${servers.length}`);
  return servers[0]!;
}
