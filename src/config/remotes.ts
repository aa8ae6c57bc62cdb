import { chmodSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DbfastError, type ErrorCode } from '../errors.js';
import { isConnectionUri, parseConninfo, SECRET_KEYWORDS } from '../pg/conninfo.js';
import { LIVE_NAME_HINT } from '../pg/swap-names.js';
import { maskUrl } from '../pg/target.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { parseToml, typeCheckConfig } from './load.js';
import { completeConfig, readConfigSource } from './read.js';
import { formatProblem, remoteRules, tableEntry, type Problem } from './rules.js';
import type { RemoteFileConfig } from './schema.js';
import { findHeaders, isBlank, ownedRange, removeRanges, splitLines, tomlString, type TomlHeader } from './toml-text.js';
import type { DbfastConfig, RemoteConfig } from './types.js';

export { REMOTE_NAME_PATTERN } from './rules.js';

export interface NewRemote {
  name: string;
  url: string;
  environment: string;
  passwordEnv?: string | undefined;
  allowDestructive?: boolean | undefined;
  /** false = `backup_before_deploy = false` (refused for production). */
  backupBeforeDeploy?: boolean | undefined;
  requireConfirmation?: boolean | undefined;
}

export interface RemoteSummary {
  name: string;
  /** Every secret masked (password, sslpassword). */
  url: string;
  environment: string;
  allowDestructive: boolean;
  backupBeforeDeploy: boolean;
  requireConfirmation: boolean;
  passwordEnv: string | null;
}

export interface AddedRemote {
  remote: RemoteConfig;
  /** Things to know that are not errors (a remote that deploys into "postgres", an environment made production). */
  warnings: string[];
}

export interface EditOptions {
  /** For `${VAR}` interpolation while checking the remote and the edited file. */
  env?: NodeJS.ProcessEnv;
}

/** What `remote list` shows of a remote: the URL with every secret masked. */
export function summarizeRemote(remote: RemoteConfig): RemoteSummary {
  return {
    name: remote.name,
    url: maskUrl(remote.url),
    environment: remote.environment,
    allowDestructive: remote.allowDestructive,
    backupBeforeDeploy: remote.backupBeforeDeploy,
    requireConfirmation: remote.requireConfirmation,
    passwordEnv: remote.passwordEnv ?? null,
  };
}

export function listRemotes(config: DbfastConfig): RemoteSummary[] {
  return Object.values(config.remotes).map(summarizeRemote);
}

export function usage(code: ErrorCode, message: string, hint: string): DbfastError {
  return new DbfastError(code, message, { hint });
}

/** The flag `remote add` took each key from, so its errors speak of what the user typed. */
const FLAGS: Record<string, string> = { url: '--url', environment: '--env', password_env: '--password-env' };

function flagOf(problem: Problem, name: string): string {
  const field = problem.key.slice(`remotes.${name}`.length + 1);
  return field ? (FLAGS[field] ?? field) : '--name';
}

const HINTS: Partial<Record<Problem['code'], string>> = {
  REMOTE_NAME_INVALID: 'Use a letter, then letters, digits, "_" or "-" (at most 63), e.g. staging or eu-prod.',
  ENVIRONMENT_UNKNOWN: 'Pass one of those to --env, or add [environments.NAME] to dbfast.toml first.',
  REMOTE_URL_INVALID: 'Write it as postgresql://USER@HOST:PORT/DATABASE (add ?sslmode=require for TLS).',
  SSLMODE_INVALID: 'Use sslmode=require to encrypt, verify-full to also check the certificate, disable for none.',
  REMOTE_DATABASE_PROTECTED: 'Create a database for the application on that server (CREATE DATABASE app) and name it in --url.',
  NAME_TOO_LONG: LIVE_NAME_HINT,
  PRODUCTION_ENVIRONMENT_CONFLICT: 'Add [environments.production] and pass --env production, or pick another --name.',
};

/** A secret written into dbfast.toml: refused unless it is a `${VAR}` reference. */
function literalSecrets(url: string): string[] {
  const info = parseConninfo(url, '--url');
  return SECRET_KEYWORDS.filter((key) => info[key] !== undefined && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(info[key] as string));
}

/**
 * Every refusal is decided here, before the file is read for editing, with the rules the loader
 * applies to a remote already in the file (rules.ts), on the remote as the loader will see it
 * (interpolated); then what only writing needs: no secret written into the file, production
 * always backed up.
 */
function checkNewRemote(config: DbfastConfig, input: NewRemote, env: NodeJS.ProcessEnv): { warnings: string[]; loadedUrl: string } {
  if (config.remotes[input.name]) {
    throw usage('REMOTE_EXISTS', `a remote named "${input.name}" already exists in ${config.configPath}`, `Pick another name, or run \`dbfast remote remove ${input.name}\` first.`);
  }
  return checkRemoteValues(config, input, env);
}

/**
 * The values of a remote as `remote add` and `remote update` write them: the same refusals for
 * both, decided before the file is read for editing, with the rules the loader applies to a
 * remote already in the file (rules.ts), on the remote as the loader will see it (interpolated);
 * then what only writing needs: no secret written into the file, production always backed up.
 * `check.url: false` (an update that keeps the URL) leaves the written URL alone.
 */
export function checkRemoteValues(
  config: DbfastConfig,
  input: NewRemote,
  env: NodeJS.ProcessEnv = config.env,
  check: { url: boolean } = { url: true },
): { warnings: string[]; loadedUrl: string } {
  if (check.url && !isConnectionUri(input.url)) {
    throw usage('REMOTE_URL_INVALID', `--url ${maskUrl(input.url)} is not a postgresql:// URL`, HINTS.REMOTE_URL_INVALID as string);
  }
  if (input.passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(input.passwordEnv)) {
    // Not echoed: a value that is not a variable name may well be the password itself.
    throw usage('PASSWORD_ENV_INVALID', '--password-env takes the name of an environment variable (letters, digits and _), and the value given is not one', 'Pass the NAME of the variable that holds the password (e.g. STAGING_PGPASSWORD), never the password itself.');
  }
  const written: RemoteFileConfig = { url: input.url, environment: input.environment, password_env: input.passwordEnv };
  const interpolationProblems: InterpolationProblem[] = [];
  const seen = interpolate(written, env, interpolationProblems) as RemoteFileConfig;
  const { problems, warnings } = remoteRules(tableEntry(input.name, seen), Object.keys(config.environments), env);
  const first = problems[0];
  if (first) {
    const lines = problems.map((problem) => `${flagOf(problem, input.name)} (${formatProblem(problem)})`);
    throw usage(first.code, `cannot write remote "${input.name}": ${lines.join('; ')}`, HINTS[first.code] ?? 'Fix the value named above.');
  }
  const secrets = check.url ? literalSecrets(input.url) : [];
  if (secrets.length > 0) {
    const which = secrets.join(' and ');
    throw usage(
      secrets.includes('password') ? 'REMOTE_URL_PASSWORD' : 'REMOTE_URL_SECRET',
      `--url ${maskUrl(input.url)} contains a ${secrets.includes('password') ? 'password' : 'secret'} (${which}); dbfast never writes secrets into dbfast.toml`,
      secrets.includes('password')
        ? 'Remove the password from the URL and pass --password-env VAR (the name of an environment variable that holds it), or put it in ~/.pgpass.'
        : `Write it as a reference instead (e.g. ${secrets[0]}=\${CLIENT_KEY_PASSPHRASE}, single-quoted in the shell) and export that variable.`,
    );
  }
  if (check.url && interpolationProblems.length > 0) {
    const names = interpolationProblems.map((problem) => problem.variable).join(', ');
    throw usage('REQUIRED_ENV_MISSING', `--url names \${${names}}, which is not set`, 'Export the variable first: every command reads it from dbfast.toml.');
  }
  const production = input.environment === 'production' || input.name === 'production';
  if (input.backupBeforeDeploy === false && production) {
    throw usage('PRODUCTION_NEEDS_BACKUP', `remote "${input.name}" deploys to production, which is always backed up before a deploy`, 'Drop --no-backup: production deploys keep their backup.');
  }
  if (input.name === 'production' && input.environment !== 'production') {
    warnings.push(`environment "${input.environment}" is now a production environment (it is deployed to a remote named "production"): the production guard keeps development and test data out of it`);
  }
  return { warnings, loadedUrl: seen.url };
}

function remoteLines(input: NewRemote, arrayForm: boolean): string[] {
  const lines = arrayForm ? ['[[remotes]]', `name = ${tomlString(input.name)}`] : [`[remotes.${input.name}]`];
  lines.push(`url = ${tomlString(input.url)}`, `environment = ${tomlString(input.environment)}`);
  if (input.passwordEnv) lines.push(`password_env = ${tomlString(input.passwordEnv)}`);
  if (input.allowDestructive) lines.push('allow_destructive = true');
  if (input.backupBeforeDeploy === false) lines.push('backup_before_deploy = false');
  if (input.requireConfirmation) lines.push('require_confirmation = true');
  return lines;
}

/** dbfast.toml as lines, with its table headers: what the comment-keeping edits work on. */
export interface ConfigText {
  file: string;
  lines: string[];
  eol: string;
  headers: TomlHeader[];
  arrayForm: boolean;
  /** `name` of each [[remotes]] entry, in file order (array form only). */
  arrayNames: string[];
}

export function readConfigText(config: DbfastConfig): ConfigText {
  const file = realpathSync(config.configPath);
  const text = readFileSync(file, 'utf8');
  const lines = splitLines(text);
  const raw = parseToml(text, file).remotes;
  const arrayForm = Array.isArray(raw);
  const arrayNames = arrayForm ? (raw as Array<{ name?: unknown }>).map((entry) => String(entry.name)) : [];
  return { file, lines, eol: text.includes('\r\n') ? '\r\n' : '\n', headers: findHeaders(lines), arrayForm, arrayNames };
}

/** Header indexes that make up one remote: its table and its sub-tables ([remotes.N.deploy] ...). */
export function remoteHeaderIndexes(text: ConfigText, name: string): number[] {
  const { headers } = text;
  if (!text.arrayForm) {
    return headers.flatMap((h, i) => (h.path[0] === 'remotes' && h.path[1] === name ? [i] : []));
  }
  const entry = text.arrayNames.indexOf(name);
  const indexes: number[] = [];
  let seen = -1;
  headers.forEach((h, i) => {
    if (h.kind === 'array' && h.path.length === 1 && h.path[0] === 'remotes') {
      seen++;
      if (seen === entry) indexes.push(i);
    } else if (seen === entry && indexes.length > 0 && h.path[0] === 'remotes' && h.path.length > 1 && i === (indexes.at(-1) as number) + 1) {
      indexes.push(i);
    }
  });
  return indexes;
}

/** Writes next to the file, checks that it loads and says what we meant, then renames over it. */
export function writeChecked(file: string, text: string, options: EditOptions, expect: (next: DbfastConfig) => string | undefined): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.dbfast-${process.pid}-${Date.now()}.tmp`);
  const mode = statSync(file).mode & 0o7777;
  writeFileSync(temp, text, { mode });
  chmodSync(temp, mode);
  try {
    let next: DbfastConfig;
    try {
      // Checked, not remembered: the fingerprint cache belongs to the real file.
      next = completeConfig(readConfigSource({ configPath: temp, env: options.env ?? process.env }), typeCheckConfig, { remember: false });
    } catch (error) {
      const reason = (error as Error).message.split(temp).join(file);
      throw new DbfastError('CONFIG_EDIT_INVALID', `the edited ${file} would not load, so it was left unchanged: ${reason}`, { hint: 'Edit the remotes in dbfast.toml by hand, or fix the problem named above first.', cause: error });
    }
    const problem = expect(next);
    if (problem) throw new DbfastError('CONFIG_EDIT_FAILED', `${file} was left unchanged: ${problem}`, { hint: 'Edit the remotes in dbfast.toml by hand.' });
    renameSync(temp, file);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed or never written
    }
    throw error;
  }
}

/** Appends the remote as its own table after the last remote (or at the end), touching nothing else. */
export function addRemote(config: DbfastConfig, input: NewRemote, options: EditOptions = {}): AddedRemote {
  const { warnings, loadedUrl } = checkNewRemote(config, input, options.env ?? config.env);
  const text = readConfigText(config);
  const { eol, headers } = text;
  // A last line without its newline would run into the new table.
  const lines = [...text.lines];
  const last = lines.at(-1);
  if (last !== undefined && !last.endsWith('\n')) lines[lines.length - 1] = `${last}${eol}`;
  const added = remoteLines(input, text.arrayForm).map((line) => `${line}${eol}`);
  const lastRemote = headers.map((h, i) => ({ h, i })).filter(({ h }) => h.path[0] === 'remotes').at(-1);
  let result: string[];
  if (lastRemote) {
    const at = ownedRange(lines, headers, lastRemote.i).end;
    const after = isBlank(lines[at]) || at >= lines.length ? [] : [eol];
    result = [...lines.slice(0, at), eol, ...added, ...after, ...lines.slice(at)];
  } else {
    result = lines.length > 0 ? [...lines, eol, ...added] : added;
  }
  let created: RemoteConfig | undefined;
  writeChecked(text.file, result.join(''), options, (next) => {
    created = next.remotes[input.name];
    if (!created || created.url !== loadedUrl || created.environment !== input.environment) {
      return `the new [remotes.${input.name}] table did not come out as remote "${input.name}" (is [remotes] written inline in this file?)`;
    }
    return undefined;
  });
  return { remote: created as RemoteConfig, warnings };
}

/** Removes exactly that remote's table lines (and its sub-tables); everything else stays byte for byte. */
export function removeRemote(config: DbfastConfig, name: string, options: EditOptions = {}): void {
  if (!config.remotes[name]) {
    const known = Object.keys(config.remotes);
    throw usage('REMOTE_UNKNOWN', `no remote named "${name}" in ${config.configPath}`, known.length ? `Known remotes: ${known.join(', ')}.` : 'There are no remotes to remove.');
  }
  const text = readConfigText(config);
  const indexes = remoteHeaderIndexes(text, name);
  if (indexes.length === 0) {
    throw usage('REMOTE_NOT_A_TABLE', `remote "${name}" is not written as its own [remotes.${name}] table in ${text.file}`, 'It is defined inline (remotes = {...} or dotted keys); remove it by hand.');
  }
  const ranges = indexes.map((index) => ownedRange(text.lines, text.headers, index));
  const result = removeRanges(text.lines, ranges);
  writeChecked(text.file, result.join(''), options, (next) =>
    next.remotes[name] ? `remote "${name}" is still defined after removing its table (is it also written inline?)` : undefined,
  );
}
