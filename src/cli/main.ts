import { Command, CommanderError } from 'commander';
import { dbfastVersion } from '../version.js';
import { renderError } from './action.js';
import { Output } from './output.js';
import { installSignalHandlers } from './signals.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerDeployCommands } from './commands/deploy.js';
import { registerEnvironmentCommands } from './commands/environments.js';
import { registerInitCommand } from './commands/init.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerPoolCommands } from './commands/pool.js';
import { registerRemoteCommands } from './commands/remote.js';
import { registerTemplateCommands } from './commands/template.js';
import { registerWebhookCommands } from './commands/webhook.js';

export function buildProgram(): Command {
  const program = new Command('dbfast')
    .description('PostgreSQL databases from folders of SQL files: seed in milliseconds, deploy and restore without losing data.')
    .version(dbfastVersion(), '-V, --version')
    .option('-c, --config <path>', 'path to dbfast.toml (default: searched upward from the current folder)')
    .option('--json', 'print one JSON object on stdout (errors as {"error": {...}})')
    .option('-v, --verbose', 'say more about what happens')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false });
  registerInitCommand(program);
  registerEnvironmentCommands(program);
  registerTemplateCommands(program);
  registerPoolCommands(program);
  registerRemoteCommands(program);
  registerBackupCommands(program);
  registerDeployCommands(program);
  registerMigrateCommands(program);
  registerWebhookCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const jsonRequested = argv.includes('--json');
  const out = new Output({ json: jsonRequested, color: !argv.includes('--no-color') });
  installSignalHandlers(out);
  // Usage errors exit 2; with --json they become {"error": ...} on stdout like every other error.
  program.exitOverride();
  program.configureOutput({
    writeErr: (text) => {
      if (!jsonRequested) process.stderr.write(text);
    },
  });
  for (const sub of program.commands) applyOverrides(sub, jsonRequested);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return;
      if (jsonRequested) {
        const { DbfastError } = await import('../errors.js');
        renderError(out, new DbfastError('USAGE', error.message.replace(/^error: /, ''), { hint: 'Run dbfast --help for usage.' }));
      }
      process.exitCode = 2;
      return;
    }
    process.exitCode = renderError(out, error);
  }
}

function applyOverrides(command: Command, jsonRequested: boolean): void {
  command.exitOverride();
  command.configureOutput({
    writeErr: (text) => {
      if (!jsonRequested) process.stderr.write(text);
    },
  });
  command.showHelpAfterError('(run with --help for usage)');
  for (const sub of command.commands) applyOverrides(sub, jsonRequested);
}
