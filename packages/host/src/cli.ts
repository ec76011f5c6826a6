/** The `openchannels` command line. */
import { runAccess, runConfigure } from './access-cli.js';
import { runConsole } from './console.js';
import { RUN_USAGE, runSession } from './run.js';
import { type ServerSpec, resolvePluginServer } from './plugins.js';

const USAGE = `usage:
  openchannels run [--channels <entry>...] -- <agent command> [args]
                                           an ACP agent with channels (openchannels run --help)
  openchannels console <plugin>            a plugin of this marketplace (fakechat, webhook, telegram) or a plugin folder
  openchannels console [--name <name>] -- <command> [args]
                                           any channel server command (its events' source is <name>)
  openchannels access <channel> [command]  who may reach the session: pair, allow, policy, groups (access --help)
  openchannels configure <channel> [<token>|clear]
                                           a channel's bot token and what to do next
options:
  --marketplace <dir>   a marketplace other than this repository`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'run') {
    if (rest.length === 0 || rest[0] === '--help') {
      console.log(RUN_USAGE);
      return rest.length === 0 ? 2 : 0;
    }
    return runSession(rest);
  }
  if (command === 'access') return runAccess(rest);
  if (command === 'configure') return runConfigure(rest);
  if (command !== 'console') {
    console.error(`unknown command ${command}\n${USAGE}`);
    return 2;
  }
  let spec: ServerSpec;
  try {
    spec = consoleTarget(rest);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  return runConsole({ spec });
}

function consoleTarget(args: string[]): ServerSpec {
  const separator = args.indexOf('--');
  const options = separator >= 0 ? args.slice(0, separator) : args;
  let marketplace: string | undefined;
  let name = 'channel';
  const names: string[] = [];
  for (let i = 0; i < options.length; i++) {
    if (options[i] === '--marketplace') marketplace = options[++i];
    else if (options[i] === '--name') name = options[++i] ?? name;
    else names.push(options[i]!);
  }
  if (separator >= 0) {
    const [serverCommand, ...serverArgs] = args.slice(separator + 1);
    if (!serverCommand) throw new Error(`no command after --\n${USAGE}`);
    return { name, command: serverCommand, args: serverArgs, env: {} };
  }
  if (names.length !== 1) throw new Error(`name one channel\n${USAGE}`);
  return resolvePluginServer(names[0]!, marketplace);
}
