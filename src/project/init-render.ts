import type { DetectedRepository } from './init-detect.js';
import { repositoriesBlock, type InitRepository } from './init-multi.js';
import type { Proposal, ProposedEnvironment } from './init-propose.js';

export interface RenderInput {
  repositoryPath: string;
  templateName: string;
  databaseUrl?: string | undefined;
  repository: DetectedRepository;
  proposal: Proposal;
  /** Several repositories (`--repo-dir` given more than once): written as `[[repositories]]`. */
  repositories?: InitRepository[] | undefined;
}

/**
 * A TOML basic string. JSON's escapes are valid TOML; `$` is doubled because dbfast reads
 * `${VAR}` in strings and `$$` is its literal dollar.
 */
export function tomlString(value: string): string {
  return JSON.stringify(value.replaceAll('$', '$$$$'));
}

function tomlList(values: readonly string[]): string {
  return `[${values.map(tomlString).join(', ')}]`;
}

function environmentBlock(name: string, environment: ProposedEnvironment, comment: string[]): string[] {
  const lines = [...comment.map((line) => `# ${line}`), `[environments.${name}]`];
  lines.push(`include_directories = ${tomlList(environment.include_directories)}`);
  if (environment.include_files) lines.push(`include_files = ${tomlList(environment.include_files)}   # SQL files directly in repository.path`);
  if (environment.exclude_directories) {
    lines.push('# Other files include (\\i / \\ir) every file in these: they run there, not on their own.');
    lines.push(`exclude_directories = ${tomlList(environment.exclude_directories)}`);
  }
  if (environment.exclude_files) {
    lines.push('# Files other files include (\\i / \\ir: they run there, not on their own), and in');
    lines.push('# production files that look like development or test data by their names (take one');
    lines.push('# off this list only if it really belongs in production).');
    lines.push(`exclude_files = ${tomlList(environment.exclude_files)}`);
  }
  return lines;
}

function folderSummary(repository: DetectedRepository): string[] {
  const rootFiles = repository.rootFiles.length;
  return [...repository.folders.map((folder) => {
    const marks = [folder.numbered ? '' : 'not numbered', folder.guardedWord ? `${folder.guardedWord} data, not in production` : '']
      .filter(Boolean)
      .join('; ');
    return `#   ${folder.name}/ (${folder.files} file${folder.files === 1 ? '' : 's'})${marks ? `: ${marks}` : ''}`;
  }), ...(rootFiles > 0 ? [`#   ${rootFiles} file${rootFiles === 1 ? '' : 's'} directly in the folder`] : [])];
}

/** The commented dbfast.toml that `dbfast init` writes. */
export function renderConfig(input: RenderInput): string {
  const { repository, proposal } = input;
  const production = proposal.environments.production;
  const migrationFolders = repository.folders.filter((folder) => /migration/i.test(folder.name) && !folder.guardedWord).map((f) => f.name);
  const lines: string[] = [
    '# dbfast.toml: how dbfast finds your SQL, which files each environment gets,',
    '# and where it deploys. Written by `dbfast init`; edit it freely. Unknown keys are',
    '# errors; the README (Configuration) lists every key. Strings may use ${VAR} or',
    '# ${VAR:-default} to read environment variables ($$ is a literal $).',
    '',
    '[database]',
    '# The local server dbfast builds templates and seeds on. Without url/host/port here,',
    '# dbfast uses DATABASE_URL, then PGHOST/PGPORT; with none of them it runs its own',
    '# PostgreSQL (`dbfast server status`). server = "managed" always uses that one,',
    '# server = "external" never does.',
    '# Never write a password here: set password_env, or use ~/.pgpass.',
    input.databaseUrl ? `url = ${tomlString(input.databaseUrl)}` : '# url = "postgresql://postgres@localhost:5432/postgres"',
    '# password_env = "PGPASSWORD"   # name of the variable that holds the password',
    `template_name = ${tomlString(input.templateName)}   # templates are named <template_name>_<env>`,
    '',
    ...(input.repositories
      ? [...repositoriesBlock(input.repositories, folderSummary), '[repository]']
      : [
          '[repository]',
          `path = ${tomlString(input.repositoryPath)}   # relative to this file`,
          `# dbfast init found ${repository.files.length} .sql file${repository.files.length === 1 ? '' : 's'} there:`,
          ...folderSummary(repository),
        ]),
    '# runner = "psql"             # run each file with psql instead of in-process',
    '',
    '# Which files each environment gets. Directories match whole path segments from',
    input.repositories ? '# the folder of the repository they name (NAME:folder; a plain one: in each);' : '# repository.path; *_files are globs relative to it. Files run in natural order',
    ...(input.repositories ? ['# *_files are globs the same way. Files run in natural order'] : []),
    '# (2_x before 10_x). Add new folders to the environments that need them.',
    '',
    ...environmentBlock('local', proposal.environments.local as ProposedEnvironment, ['local: everything dbfast init found.']),
    '',
  ];
  if (production) {
    lines.push(
      ...environmentBlock('production', production, [
        'production: schema and migrations only (folders without seed/test/fixture/dev in',
        'their names). dbfast refuses to give it files that look like such data.',
      ]),
      '# allow_seed_data = false       # true turns the production guard off',
      migrationFolders.length > 0 ? `# migration_directories = ${tomlList(migrationFolders)}` : '# migration_directories = ["6_migration"]',
      '',
    );
  } else {
    lines.push(
      '# No production environment: every folder found looks like seed, test, fixture or',
      '# dev data. Add [environments.production] with your schema folders.',
      '',
    );
  }
  for (const note of proposal.notes) lines.push(`# Note: ${note}`);
  if (proposal.notes.length > 0) lines.push('');
  lines.push(
    '# Remotes you deploy to. Passwords come from password_env, the URL or ~/.pgpass;',
    '# never write them in this file.',
    `# [remotes.${production ? 'production' : 'staging'}]`,
    '# url = "postgresql://app@db.example.com:5432/app"',
    '# password_env = "APP_PGPASSWORD"',
    `# environment = "${production ? 'production' : 'local'}"`,
    '# allow_destructive = false     # deploy may replace the database',
    '# backup_before_deploy = true',
    '# require_confirmation = false  # always true for production',
    '',
    '[backup]',
    'dir = ".dbfast/backups"         # backups go to <dir>/<remote>/',
    '# keep_last = 10               # backups kept per remote (keep_days = 30 for an age limit)',
    'compression = "zstd"            # zstd | lz4 | gzip | none',
    '',
  );
  return lines.join('\n');
}
