import { chmodSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DbfastError, type ErrorCode } from '../errors.js';
import { isPostgresUrl, maskUrl } from '../pg/target.js';
import { loadConfig, parseToml } from './load.js';
import { findHeaders, isBlank, ownedRange, removeRanges, splitLines, tomlString, type TomlHeader } from './toml-text.js';
import type { DbfastConfig, RemoteConfig } from './types.js';

/** Remote names become folder names (backups) and TOML keys: keep them plain. */
export const REMOTE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

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
  /** Password masked. */
  url: string;
  environment: string;
  allowDestructive: boolean;
  backupBeforeDeploy: boolean;
  requireConfirmation: boolean;
  passwordEnv: string | null;
}

export interface EditOptions {
  /** For `${VAR}` interpolation while re-checking the edited file. */
  env?: NodeJS.ProcessEnv;
}

/** What `remote list` shows of a remote: the URL with any password masked. */
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

/** Every refusal is decided here, before the file is read for editing. */
function checkNewRemote(config: DbfastConfig, input: NewRemote): void {
  if (!REMOTE_NAME_PATTERN.test(input.name)) {
    throw usage('REMOTE_NAME_INVALID', `"${input.name}" is not a valid remote name`, 'Use a letter, then letters, digits, "_" or "-" (at most 63), e.g. staging or eu-prod.');
  }
  if (config.remotes[input.name]) {
    throw usage('REMOTE_EXISTS', `a remote named "${input.name}" already exists in ${config.configPath}`, `Pick another name, or run \`dbfast remote remove ${input.name}\` first.`);
  }
  checkRemoteValues(config, input);
}

/** A postgres URL without a password: dbfast never writes passwords into dbfast.toml. */
function checkRemoteUrl(url: string): void {
  let parsed: URL;
  try {
    if (!isPostgresUrl(url)) throw new Error('not a postgres URL');
    parsed = new URL(url);
  } catch {
    throw usage('REMOTE_URL_INVALID', `--url ${maskUrl(url)} is not a postgresql:// URL`, 'Write it as postgresql://USER@HOST:PORT/DATABASE (add ?sslmode=require for TLS).');
  }
  const passwordParam = [...parsed.searchParams.keys()].some((key) => key.toLowerCase() === 'password');
  if (parsed.password || passwordParam) {
    throw usage(
      'REMOTE_URL_PASSWORD',
      `--url ${maskUrl(url)} contains a password; dbfast never writes passwords into dbfast.toml`,
      'Remove the password from the URL and pass --password-env VAR (the name of an environment variable that holds it), or put it in ~/.pgpass.',
    );
  }
}

/** The values of a remote as `remote add` and `remote update` write them: the same refusals for both. */
export function checkRemoteValues(config: DbfastConfig, input: NewRemote, check: { url: boolean } = { url: true }): void {
  if (!config.environments[input.environment]) {
    const known = Object.keys(config.environments).join(', ') || 'none';
    throw usage('ENVIRONMENT_UNKNOWN', `unknown environment "${input.environment}" (defined: ${known})`, 'Pass one of those to --env, or add [environments.NAME] to dbfast.toml first.');
  }
  if (check.url) checkRemoteUrl(input.url);
  if (input.passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(input.passwordEnv)) {
    // Not echoed: a value that is not a variable name may well be the password itself.
    throw usage('PASSWORD_ENV_INVALID', '--password-env takes the name of an environment variable (letters, digits and _), and the value given is not one', 'Pass the NAME of the variable that holds the password (e.g. STAGING_PGPASSWORD), never the password itself.');
  }
  const production = input.environment === 'production' || input.name === 'production';
  if (input.backupBeforeDeploy === false && production) {
    throw usage('PRODUCTION_NEEDS_BACKUP', `remote "${input.name}" deploys to production, which is always backed up before a deploy`, 'Drop --no-backup: production deploys keep their backup.');
  }
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
      next = loadConfig({ configPath: temp, env: options.env ?? process.env });
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
export function addRemote(config: DbfastConfig, input: NewRemote, options: EditOptions = {}): RemoteConfig {
  checkNewRemote(config, input);
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
    if (!created || created.url !== input.url || created.environment !== input.environment) {
      return `the new [remotes.${input.name}] table did not come out as remote "${input.name}" (is [remotes] written inline in this file?)`;
    }
    return undefined;
  });
  return created as RemoteConfig;
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
