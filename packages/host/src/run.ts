/**
 * `openchannels run`: an ACP agent in a terminal session with channels. The person types to
 * the agent as usual while events from opted-in channels arrive and are shown as they come.
 */
import { createInterface } from 'node:readline';
import { type Behavior, errorText, parseVerdict } from '@openchannels/kit';
import { resultText } from './connection.js';
import { type Marketplace, readMarketplace } from './plugins.js';
import {
  type ChannelEntry,
  defaultManagedSettingsPath,
  formatEntry,
  parseChannelEntry,
  readConfiguredServers,
  readManagedSettings,
  registerChannels,
} from './registry.js';
import { HostSession, type SessionView } from './session.js';

export const RUN_USAGE = `usage: openchannels run [options] -- <agent command> [args]
  --channels <entry>...          channels whose events reach the agent: plugin:<name>@<marketplace> or server:<name>
  --dangerously-load-development-channels <entry>...
                                 channels to load although they are not on the approved list (asks first)
  --marketplace <dir>            another plugin marketplace (this repository's is always known)
  --managed-settings <file>      organisation policy (default ${defaultManagedSettingsPath()})
  --no-reply-reminders           do not remind the agent when a turn answers a person's channel message only here`;

export interface RunArguments {
  channels: ChannelEntry[];
  development: ChannelEntry[];
  marketplaceDirs: string[];
  managedSettingsPath?: string;
  replyReminders: boolean;
  agent: string[];
}

export function parseRunArguments(argv: string[]): RunArguments {
  const separator = argv.indexOf('--');
  if (separator < 0 || separator === argv.length - 1) throw new Error(`name the agent command after --\n${RUN_USAGE}`);
  const parsed: RunArguments = { channels: [], development: [], marketplaceDirs: [], replyReminders: true, agent: argv.slice(separator + 1) };
  const options = argv.slice(0, separator);
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const values: string[] = [];
    while (i + 1 < options.length && !options[i + 1]!.startsWith('--')) values.push(options[++i]!);
    const entries = () => values.flatMap((v) => v.split(',')).filter(Boolean).map(parseChannelEntry);
    if (option === '--channels') parsed.channels.push(...entries());
    else if (option === '--dangerously-load-development-channels') parsed.development.push(...entries());
    else if (option === '--marketplace' && values.length === 1) parsed.marketplaceDirs.push(values[0]!);
    else if (option === '--managed-settings' && values.length === 1) parsed.managedSettingsPath = values[0];
    else if (option === '--no-reply-reminders' && values.length === 0) parsed.replyReminders = false;
    else throw new Error(`unknown or incomplete option ${option}\n${RUN_USAGE}`);
  }
  return parsed;
}

export async function runSession(argv: string[], input = process.stdin, output = process.stdout): Promise<number> {
  let args: RunArguments;
  try {
    args = parseRunArguments(argv);
  } catch (err) {
    console.error(errorText(err));
    return 1;
  }
  const interactive = (input as { isTTY?: boolean }).isTTY === true;
  const readline = createInterface({ input, output, terminal: interactive });
  const lines = readline[Symbol.asyncIterator]();
  const view = terminalView(output, interactive ? () => readline.prompt(true) : () => {});

  if (args.development.length > 0) {
    view.notice(
      `development channels are not on the approved list and can push events into this session: ${args.development.map(formatEntry).join(', ')}`,
    );
    output.write('load them? [y/N] ');
    const answer = await lines.next();
    if (!interactive) output.write('\n'); // a terminal echoes the answer and its newline itself
    if (answer.done || !/^\s*y(es)?\s*$/i.test(answer.value)) {
      view.notice('not loading development channels');
      args.development = [];
    }
  }

  let marketplaces: Marketplace[];
  try {
    marketplaces = [readMarketplace(), ...args.marketplaceDirs.map((dir) => readMarketplace(dir))];
  } catch (err) {
    view.notice(errorText(err));
    readline.close();
    return 1;
  }
  const ours = marketplaces[0]!;
  const cwd = process.cwd();
  const session = new HostSession({
    registrations: registerChannels({
      channels: args.channels,
      development: args.development,
      marketplaces,
      configuredServers: readConfiguredServers(cwd),
      managed: readManagedSettings(args.managedSettingsPath ?? process.env.OPENCHANNELS_MANAGED_SETTINGS),
      defaultAllowlist: ours.plugins.map((p) => ({ plugin: p.name, marketplace: ours.name })),
    }),
    agentCommand: args.agent[0]!,
    agentArgs: args.agent.slice(1),
    cwd,
    view,
    replyReminders: args.replyReminders,
  });
  try {
    await session.start();
  } catch (err) {
    view.notice(errorText(err));
    await session.close();
    readline.close();
    return 1;
  }
  view.notice('ready: type to the agent; "yes <id>" / "no <id>" answers a permission request; /cancel, /quit');
  if (interactive) readline.prompt();

  const typed = (async () => {
    for await (const line of { [Symbol.asyncIterator]: () => lines }) {
      const text = line.trim();
      if (!text) continue;
      if (text === '/quit') return;
      if (text === '/cancel') {
        await session.cancelTurn();
        continue;
      }
      const verdict = parseVerdict(text) ?? shortVerdict(text, session.openPermissionIds);
      if (verdict) {
        if (!session.answer(verdict.request_id, verdict.behavior)) view.notice(`no open permission request ${verdict.request_id}`);
        continue;
      }
      session.say(text);
    }
    // Input ended (e.g. a script piped in): let the agent finish what it was given.
    await session.idle();
  })();
  const code = await Promise.race([typed.then(() => 0), session.finished]);
  readline.close();
  await session.close();
  return code;
}

/** `y` or `n` alone answers the only open request. */
function shortVerdict(text: string, openIds: string[]): { request_id: string; behavior: Behavior } | null {
  const match = /^(y|yes|n|no)$/i.exec(text);
  if (!match || openIds.length !== 1) return null;
  return { request_id: openIds[0]!, behavior: match[1]!.toLowerCase().startsWith('y') ? 'allow' : 'deny' };
}

function terminalView(output: NodeJS.WritableStream, reprompt: () => void): SessionView {
  let midText = false;
  const line = (text: string) => {
    if (midText) output.write('\n');
    midText = false;
    output.write(`${text}\n`);
    reprompt();
  };
  return {
    notice: (text) => line(`· ${text}`),
    event: (_channel, tag) => line(tag),
    agentText: (text) => {
      output.write(text);
      midText = !text.endsWith('\n');
    },
    agentTool: (title, status) => line(`⚙ ${title} (${status})`),
    channelTool: (call) =>
      line(`⚙ ${call.channel}.${call.tool} → ${call.result.isError ? 'error: ' : ''}${resultText(call.result)}`),
    permissionOpened: (id, toolName, description, preview) =>
      line(`⚠ permission ${id}: ${toolName} — ${description}\n  ${preview}\n  answer "yes ${id}" or "no ${id}" (or from a channel)`),
    permissionClosed: (id, behavior, via) =>
      line(`· ${id} ${behavior === 'allow' ? 'allowed' : behavior === 'deny' ? 'denied' : 'cancelled'} via ${via}`),
    turnEnded: () => line(''),
    agentStderr: (text) => line(`  ${text}`),
  };
}
