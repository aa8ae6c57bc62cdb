import { isDeepStrictEqual } from 'node:util';
import { checkRemoteValues, readConfigText, remoteHeaderIndexes, usage, writeChecked, type ConfigText, type EditOptions } from './remotes.js';
import { isBlank, isComment, lineKey, tomlString, topLevelLines, valueSpan } from './toml-text.js';
import type { DbfastConfig, RemoteConfig } from './types.js';

/** What `remote update` may change; a field left undefined keeps what the file says. */
export interface RemoteChanges {
  url?: string | undefined;
  environment?: string | undefined;
  passwordEnv?: string | undefined;
  allowDestructive?: boolean | undefined;
  backupBeforeDeploy?: boolean | undefined;
  requireConfirmation?: boolean | undefined;
  noOwner?: boolean | undefined;
  noPrivileges?: boolean | undefined;
  keepPrevious?: boolean | undefined;
}

/** What `updateRemote` wrote. */
export interface RemoteUpdate {
  remote: RemoteConfig;
  /** The dbfast.toml keys written, e.g. `url`, `no_owner`. */
  changed: string[];
}

/** The file key of each change, with the TOML text of its value. */
const KEYS: Array<[keyof RemoteChanges, string, (value: string | boolean) => string]> = [
  ['url', 'url', (value) => tomlString(String(value))],
  ['environment', 'environment', (value) => tomlString(String(value))],
  ['passwordEnv', 'password_env', (value) => tomlString(String(value))],
  ['allowDestructive', 'allow_destructive', String],
  ['backupBeforeDeploy', 'backup_before_deploy', String],
  ['requireConfirmation', 'require_confirmation', String],
  ['noOwner', 'no_owner', String],
  ['noPrivileges', 'no_privileges', String],
  ['keepPrevious', 'keep_previous', String],
];

/** The lines of the remote's own table (its header to the next header) that hold its keys. */
function tableKeys(text: ConfigText, headerIndex: number): { keys: Map<string, number>; insertAt: number } {
  const header = text.headers[headerIndex];
  if (!header) throw new Error('no such header');
  const end = text.headers[headerIndex + 1]?.line ?? text.lines.length;
  const topLevel = topLevelLines(text.lines);
  const keys = new Map<string, number>();
  let insertAt = header.line + 1;
  for (let i = header.line + 1; i < end; i++) {
    const line = text.lines[i] as string;
    if (!topLevel[i] || isBlank(line) || isComment(line)) continue;
    const key = lineKey(line);
    if (key !== undefined) keys.set(key, i);
    // After the key's last line: a multi-line value ends where the next top-level line starts.
    let last = i;
    while (last + 1 < end && !topLevel[last + 1]) last++;
    insertAt = last + 1;
  }
  return { keys, insertAt };
}

/**
 * Rewrites only the changed keys of one remote's table: a key's value is replaced in its own
 * line (its trailing comment kept), a missing key is added after the table's last key. Every
 * other byte stays as written; the edited file is loaded and compared before it replaces the old.
 */
export function updateRemote(config: DbfastConfig, name: string, changes: RemoteChanges, options: EditOptions = {}): RemoteUpdate {
  const current = config.remotes[name];
  if (!current) {
    const known = Object.keys(config.remotes);
    throw usage('REMOTE_UNKNOWN', `no remote named "${name}" in ${config.configPath}`, known.length ? `Known remotes: ${known.join(', ')}.` : 'Add one with `dbfast remote add`.');
  }
  const given = KEYS.filter(([field]) => changes[field] !== undefined);
  if (given.length === 0) {
    throw usage('USAGE', `nothing to change for remote "${name}"`, 'Pass what to change, e.g. --url, --env, --password-env, --allow-destructive, --no-owner (see `dbfast remote update --help`).');
  }
  checkRemoteValues(
    config,
    {
      name,
      url: changes.url ?? current.url,
      environment: changes.environment ?? current.environment,
      passwordEnv: changes.passwordEnv,
      backupBeforeDeploy: changes.backupBeforeDeploy,
    },
    config.env,
    { url: changes.url !== undefined },
  );
  const text = readConfigText(config);
  const [headerIndex] = remoteHeaderIndexes(text, name);
  if (headerIndex === undefined) {
    throw usage('REMOTE_NOT_A_TABLE', `remote "${name}" is not written as its own [remotes.${name}] table in ${text.file}`, 'It is defined inline (remotes = {...} or dotted keys); edit it by hand.');
  }
  const { keys, insertAt } = tableKeys(text, headerIndex);
  const lines = [...text.lines];
  const added: string[] = [];
  for (const [field, key, render] of given) {
    const value = render(changes[field] as string | boolean);
    const at = keys.get(key);
    if (at === undefined) {
      added.push(`${key} = ${value}${text.eol}`);
      continue;
    }
    const line = lines[at] as string;
    const span = valueSpan(line);
    if (!span) {
      throw usage('CONFIG_EDIT_FAILED', `${text.file}:${at + 1}: the value of ${key} spans several lines; ${text.file} was left unchanged`, `Write ${key} on one line, or edit it by hand.`);
    }
    lines[at] = `${line.slice(0, span.start)}${value}${line.slice(span.end)}`;
  }
  // A table whose last key has no newline (the file's last line) needs one before the added keys.
  const before = lines[insertAt - 1];
  if (added.length > 0 && before !== undefined && !before.endsWith('\n')) lines[insertAt - 1] = `${before}${text.eol}`;
  lines.splice(insertAt, 0, ...added);
  const others = Object.values(config.remotes).filter((remote) => remote.name !== name);
  let updated: RemoteConfig | undefined;
  writeChecked(text.file, lines.join(''), options, (next) => {
    updated = next.remotes[name];
    if (!updated) return `remote "${name}" is gone after the edit`;
    const wrong = given.filter(([field]) => !isDeepStrictEqual(updated?.[field], changes[field]));
    // Production forces backups and confirmations on; those keys may read differently from what was written.
    const forced = new Set<keyof RemoteChanges>(['backupBeforeDeploy', 'requireConfirmation']);
    const unexpected = wrong.filter(([field]) => !forced.has(field));
    if (unexpected.length > 0) return `${unexpected.map(([, key]) => key).join(', ')} did not come out as given (is the remote also written inline?)`;
    const moved = others.filter((remote) => !isDeepStrictEqual(next.remotes[remote.name], remote));
    if (moved.length > 0) return `the edit would also change remote ${moved.map((remote) => `"${remote.name}"`).join(', ')}`;
    return undefined;
  });
  return { remote: updated as RemoteConfig, changed: given.map(([, key]) => key) };
}
