/**
 * `meshparty <subcommand> [options]`. Each subcommand is one entry in {@link SUBCOMMANDS};
 * adding one (e.g. `keeper`) means adding a file under `commands/` and one line here.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { signalCommand } from './commands/signal-command.js';
import { tokenCommand } from './commands/token-command.js';
import { createRoomToken } from './tokens.js';
import { createKeeperCommand } from '../src/yjs/keeper/cli.js';
import type { Subcommand } from './commands/subcommand.js';

/** Every subcommand of the `meshparty` CLI, by name. */
export const SUBCOMMANDS: Record<string, Subcommand> = {
  signal: signalCommand,
  token: tokenCommand,
  keeper: createKeeperCommand(createRoomToken),
};

function help(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((n) => n.length));
  const lines = Object.entries(SUBCOMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['Usage: meshparty <command> [options]', '', 'Commands:', ...lines, '', 'Run `meshparty <command> --help` for its options.'].join('\n');
}

/**
 * Run the CLI with `argv` (without node and script); resolves to the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['signal', '--port', '4444']);
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 1;
  }
  const command = SUBCOMMANDS[name];
  if (!command) {
    console.error(`meshparty: unknown command "${name}"\n\n${help()}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    console.error(`meshparty ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

// `npm run signal -- --port 4444` runs this file directly.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(['signal', ...process.argv.slice(2)]);
}
