// The `pacer` command line: finds the command in the registry (the longest name matching the first
// words), parses its options strictly, runs it, and maps errors to exit codes — 2 for usage and
// config mistakes (with a pointer to --help), 3 for a failed collective of data-parallel training
// (a peer died or stalled: pacer launch then reports the peer, not this rank), 1 for everything else
// (one line; PACER_DEBUG=1 adds the stack).
import { COMMANDS } from './registry.js';
import { UsageError, commandHelp, parseCommandArgs, type Command } from './command.js';
import { ConfigError } from '../trainers/config.js';
import { DistributedError } from '../util/errors.js';
import { EXIT_PEER_LOST } from './launcher.js';

export { UsageError };

export function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'pacer — post-training from rewards and preferences (libtorch engine)',
    '',
    'usage: pacer <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    `  ${'help [command]'.padEnd(w)}  this text, or a command's options`,
    '',
    "Run 'pacer <command> --help' for a command's options.",
  ].join('\n');
}

/** The command whose name is the longest prefix of argv's words, and the remaining arguments. */
export function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  let found: { command: Command; rest: string[] } | null = null;
  for (const c of COMMANDS) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!found || words.length > found.command.name.split(' ').length))
      found = { command: c, rest: argv.slice(words.length) };
  }
  return found;
}

function unknownCommand(argv: string[]): UsageError {
  const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `)).map((c) => c.name.split(' ')[1]);
  if (group.length) return new UsageError(`unknown ${argv[0]} '${argv[1] ?? ''}' (available: ${group.join(', ')})`);
  return new UsageError(`unknown command '${argv[0]}'`);
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      const sub = rest.length ? findCommand(rest) : null;
      console.log(sub && sub.rest.length === 0 ? commandHelp(sub.command) : mainHelp());
      return 0;
    }
    const found = findCommand(argv);
    if (!found) throw unknownCommand(argv);
    const { values, positionals } = parseCommandArgs(found.command, found.rest);
    if (values.help) {
      console.log(commandHelp(found.command));
      return 0;
    }
    return (await found.command.run(values, positionals)) ?? 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof UsageError || e instanceof ConfigError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      const msg = err.message.replace(/^pacer: /, '');
      console.error(`pacer: ${msg}\nRun 'pacer --help' (or 'pacer ${cmd} --help') for usage.`);
      return 2;
    }
    console.error(err.message.startsWith('pacer') ? err.message : `pacer: ${err.message}`);
    if (process.env.PACER_DEBUG) console.error(err.stack);
    return e instanceof DistributedError ? EXIT_PEER_LOST : 1;
  }
}
