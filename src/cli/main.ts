import { Command, CommanderError } from 'commander';
import { DbfastError } from '../errors.js';
import { dbfastVersion } from '../index.js';
import { Output } from './output.js';
import { renderError } from './render/error.js';
import { installSignalHandlers } from './signals.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerDeployCommands } from './commands/deploy.js';
import { registerDoctorCommands } from './commands/doctor.js';
import { registerEnvironmentCommands } from './commands/environments.js';
import { registerInitCommand } from './commands/init.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerPoolCommands } from './commands/pool.js';
import { registerRemoteCommands } from './commands/remote.js';
import { registerServerCommands } from './commands/server.js';
import { registerTemplateCommands } from './commands/template.js';
import { registerWatchCommand } from './commands/watch.js';
import { registerWebhookCommands } from './commands/webhook.js';

/**
 * The commander program. Settings made here before the commands are added are inherited by every
 * command (commander copies them): usage errors throw instead of exiting, and are rendered by
 * renderError like every other error; each command's --help lists the global options too.
 */
export function buildProgram(options: { json?: boolean } = {}): Command {
  const program = new Command('dbfast')
    .description('PostgreSQL databases from folders of SQL files: seed in milliseconds, deploy and restore without losing data.')
    .version(dbfastVersion(), '-V, --version')
    .option('-c, --config <path>', 'path to dbfast.toml (default: $DBFAST_CONFIG, else searched upward from the current folder)')
    .option('--json', 'print one JSON object on stdout (errors as {"error": {...}}); no progress, no colour')
    .option('-v, --verbose', 'say more about what happens')
    .option('--no-color', 'no colours (also NO_COLOR=1; FORCE_COLOR=1 forces them)')
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .exitOverride()
    // Errors are printed by renderError (main below); help goes to stderr only without --json.
    .configureOutput({ outputError: () => undefined, ...(options.json ? { writeErr: () => undefined } : {}) });
  registerInitCommand(program);
  registerEnvironmentCommands(program);
  registerTemplateCommands(program);
  registerPoolCommands(program);
  registerWatchCommand(program);
  registerRemoteCommands(program);
  registerBackupCommands(program);
  registerDeployCommands(program);
  registerMigrateCommands(program);
  registerWebhookCommands(program);
  registerServerCommands(program);
  registerDoctorCommands(program);
  return program;
}

/** The command a usage error belongs to (`dbfast backup`), from the words of argv that name commands. */
function commandPath(program: Command, args: string[]): string {
  const names = ['dbfast'];
  let command = program;
  for (const word of args) {
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) continue;
    names.push(sub.name());
    command = sub;
  }
  return names.join(' ');
}

/** A commander usage error as the USAGE DbfastError it is. */
export function usageError(error: CommanderError, where: string): DbfastError {
  const missingCommand = error.code === 'commander.help';
  const message = missingCommand ? `${where} needs a command` : error.message.replace(/^error: /, '');
  return new DbfastError('USAGE', message, { hint: `Run \`${where} --help\` for usage.` });
}

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const program = buildProgram({ json });
  const out = new Output({ json, color: !argv.includes('--no-color') });
  installSignalHandlers(out);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return;
      await renderError(out, usageError(error, commandPath(program, argv.slice(2))));
      process.exitCode = 2;
      return;
    }
    process.exitCode = await renderError(out, error);
  }
}
