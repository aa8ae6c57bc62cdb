import type { Command } from 'commander';
import { action } from '../action.js';

interface InitFlags {
  repoDir?: string[];
  templateName?: string;
  databaseUrl?: string;
  force?: boolean;
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a commented dbfast.toml in the current folder for the numbered SQL folders found in --repo-dir')
    .option('--repo-dir <dir>', 'folder that holds the numbered SQL folders (also found one level down); more than once: several repositories, in run order', (dir: string, dirs: string[] | undefined) => [...(dirs ?? []), dir])
    .option('--template-name <name>', 'base name of the template databases (default: from the folder name)')
    .option('--database-url <url>', 'local PostgreSQL server URL, without a password')
    .option('--force', 'overwrite an existing dbfast.toml')
    .action(
      action<InitFlags>(async (ctx, _args, flags) => {
        const [{ initProject }, render] = await Promise.all([import('../../index.js'), import('../render/local.js')]);
        const dirs = flags.repoDir ?? ['.'];
        const result = await initProject({ repoDir: dirs[0], repoDirs: dirs.length > 1 ? dirs : undefined, templateName: flags.templateName, databaseUrl: flags.databaseUrl, force: flags.force === true });
        for (const note of result.notes) ctx.out.warn(note);
        ctx.out.result(
          {
            config: result.configPath,
            repository: result.repositoryRelative,
            ...(result.repositories.length > 0 ? { repositories: result.repositories } : {}),
            template_name: result.templateName,
            files: result.files,
            environments: result.environments,
            notes: result.notes,
            previous_config: result.previousConfigCopy,
            gitignore: result.gitignore,
          },
          () => render.renderInit(result),
        );
      }),
    );
}
