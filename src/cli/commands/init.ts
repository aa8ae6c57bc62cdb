import type { Command } from 'commander';
import { action } from '../action.js';

interface InitFlags {
  repoDir?: string;
  templateName?: string;
  databaseUrl?: string;
  force?: boolean;
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a commented dbfast.toml (in the current folder) for the SQL folders found in DIR')
    .option('--repo-dir <dir>', 'folder that holds the numbered SQL folders (also found one level down)', '.')
    .option('--template-name <name>', 'base name of the template databases (default: from the folder name)')
    .option('--database-url <url>', 'local PostgreSQL server URL, without a password')
    .option('--force', 'overwrite an existing dbfast.toml')
    .action(
      action(async (ctx, _args, options) => {
        const flags = options as InitFlags;
        const { initProject } = await import('../../project/init.js');
        const result = await initProject({
          repoDir: flags.repoDir,
          templateName: flags.templateName,
          databaseUrl: flags.databaseUrl,
          force: flags.force === true,
        });
        for (const note of result.notes) ctx.out.warn(note);
        ctx.out.result(
          {
            config: result.configPath,
            repository: result.repositoryRelative,
            template_name: result.templateName,
            files: result.files,
            environments: result.environments,
            notes: result.notes,
            previous_config: result.previousConfigCopy,
            gitignore: result.gitignore,
          },
          () => {
            const width = Math.max(...Object.keys(result.environments).map((name) => name.length), 'repository'.length);
            const row = (label: string, text: string): string => `  ${`${label}:`.padEnd(width + 2)}${text}`;
            const lines = [
              result.previousConfigCopy ? `replaced ${result.configPath} (the previous file is kept as ${result.previousConfigCopy})` : `wrote ${result.configPath}`,
              row('repository', `${result.repositoryRelative} (${result.files} .sql files in ${result.folders.length} folders)`),
              row('template', result.templateName),
              row('.gitignore', result.gitignore.action === 'present' ? 'already ignores .dbfast/' : `${result.gitignore.action === 'created' ? 'created, ignoring' : 'now ignores'} .dbfast/ (local backups)`),
              ...Object.entries(result.environments).map(([name, env]) =>
                row(name, `${env.include_directories.join(', ') || '(no folders)'} (${env.files} files)`),
              ),
              'next: `dbfast environments show local` lists the files in run order; `dbfast validate-env` checks the environments.',
            ];
            return lines.join('\n');
          },
        );
      }),
    );
}
