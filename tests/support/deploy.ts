import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { PROJECT_ROOT } from './cli.js';
import { databasesLike, dropDatabase, local, uniqueName } from './db.js';
import { trackRemoteDatabase, type Project, type RemoteAccount } from './backup.js';

export interface DeployRemote {
  name: string;
  account: RemoteAccount;
  environment?: string;
  allowDestructive?: boolean;
  requireConfirmation?: boolean;
  backup?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  validate?: string[];
  keepPrevious?: boolean;
  deploy?: DeployHooksOptions;
  healthCheck?: { url: string; expectedStatus?: number; timeoutSeconds?: number };
}

/** `[deploy]` / `[remotes.N.deploy]`. */
export interface DeployHooksOptions {
  pre?: string[];
  post?: string[];
  requiredEnv?: string[];
  postFailure?: 'rollback' | 'warn';
  timeoutSeconds?: number;
}

function hookLines(header: string, hooks: DeployHooksOptions): string[] {
  const list = (values: string[]): string => `[${values.map(tomlString).join(', ')}]`;
  const lines = ['', header];
  if (hooks.pre) lines.push(`pre = ${list(hooks.pre)}`);
  if (hooks.post) lines.push(`post = ${list(hooks.post)}`);
  if (hooks.requiredEnv) lines.push(`required_env = ${list(hooks.requiredEnv)}`);
  if (hooks.postFailure) lines.push(`post_failure = ${tomlString(hooks.postFailure)}`);
  if (hooks.timeoutSeconds !== undefined) lines.push(`timeout_seconds = ${hooks.timeoutSeconds}`);
  return lines;
}

export interface DeployProject extends Project {
  templateName: string;
  repo: string;
}

const folders: string[] = [];
const templates: string[] = [];

function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** A project on a copy of fixtures/app/db: staging gets schema + common seed, production schema + migrations. */
export function writeDeployProject(remotes: DeployRemote[], options: { extraSql?: string; pgBinDir?: string; deploy?: DeployHooksOptions; productionDirectories?: string[] } = {}): DeployProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-deploy-test-'));
  folders.push(dir);
  const repo = path.join(dir, 'db');
  cpSync(path.join(PROJECT_ROOT, 'fixtures/app/db'), repo, { recursive: true });
  if (options.extraSql) writeFileSync(path.join(repo, '0_schema', '090_extra.sql'), options.extraSql);
  const templateName = uniqueName('dpl');
  templates.push(templateName);
  const lines = [
    '[database]',
    `url = ${tomlString(local.adminUrl)}`,
    `template_name = ${tomlString(templateName)}`,
    '',
    '[repository]',
    'path = "db"',
    '',
    '[environments.staging]',
    'include_directories = ["0_schema", "1_seed_common"]',
    '',
    '[environments.production]',
    `include_directories = ${JSON.stringify(options.productionDirectories ?? ['0_schema', '6_migration'])}`,
    '',
    '[backup]',
    'dir = "backups"',
  ];
  if (options.pgBinDir) lines.push('', '[tools]', `pg_bin_dir = ${tomlString(options.pgBinDir)}`);
  if (options.deploy) lines.push(...hookLines('[deploy]', options.deploy));
  const env: Record<string, string> = {};
  for (const r of remotes) {
    lines.push('', `[remotes.${r.name}]`, `url = ${tomlString(r.account.url)}`, `password_env = ${tomlString(r.account.passwordEnv)}`);
    lines.push(`environment = ${tomlString(r.environment ?? 'staging')}`);
    lines.push(`allow_destructive = ${r.allowDestructive ?? true}`);
    if (r.requireConfirmation) lines.push('require_confirmation = true');
    if (r.backup === false) lines.push('backup_before_deploy = false');
    if (r.noOwner ?? true) lines.push('no_owner = true');
    if (r.noPrivileges) lines.push('no_privileges = true');
    if (r.keepPrevious === false) lines.push('keep_previous = false');
    if (r.validate) lines.push(`validate = [${r.validate.map(tomlString).join(', ')}]`);
    if (r.healthCheck) {
      const h = r.healthCheck;
      lines.push(`health_check = { url = ${tomlString(h.url)}${h.expectedStatus === undefined ? '' : `, expected_status = ${h.expectedStatus}`}${h.timeoutSeconds === undefined ? '' : `, timeout_seconds = ${h.timeoutSeconds}`} }`);
    }
    if (r.deploy) lines.push(...hookLines(`[remotes.${r.name}.deploy]`, r.deploy));
    env[r.account.passwordEnv] = r.account.password;
    for (const suffix of ['__dbfast_new', '__dbfast_prev', '__dbfast_restore', '__dbfast_rollback']) trackRemoteDatabase(`${r.account.database}${suffix}`);
  }
  writeFileSync(path.join(dir, 'dbfast.toml'), `${lines.join('\n')}\n`);
  return { dir, backupDir: path.join(dir, 'backups'), env, templateName, repo };
}

/**
 * The database as pg_dump sees it (schema and data), without dbfast's own bookkeeping schema
 * and without the random \restrict key newer pg_dump versions print: equal text means an
 * untouched database.
 */
export function snapshot(adminDbUrl: string): string {
  const text = execFileSync('pg_dump', ['--no-owner', '--exclude-schema=dbfast', '--dbname', adminDbUrl], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return text
    .split('\n')
    .filter((line) => !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict'))
    .join('\n');
}

/**
 * A pg_bin_dir whose pg_restore fails (after `delaySeconds`, having restored the schema only)
 * while pg_dump and psql are the real ones: a restore that dies half-way, on demand.
 */
export function failingRestoreBinDir(options: { delaySeconds?: number; fail?: boolean; gate?: string } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-fake-bin-'));
  folders.push(dir);
  const real = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  for (const tool of ['pg_dump', 'psql']) symlinkSync(path.join(real, tool), path.join(dir, tool));
  const script = [
    '#!/bin/sh',
    // --version, --list and reading to /dev/null (backup verification) stay real: only restoring fails.
    `for arg in "$@"; do case "$arg" in --version|--list|-l|--file=/dev/null) exec ${path.join(real, 'pg_restore')} "$@";; esac; done`,
    `sleep ${options.delaySeconds ?? 0}`,
    // A gate: restoring waits until the test creates this file (a deploy held in the middle for as long as the test needs, whatever the load).
    ...(options.gate ? [`while [ ! -e '${options.gate}' ]; do sleep 0.05; done`] : []),
    options.fail === false ? `exec ${path.join(real, 'pg_restore')} "$@"` : `${path.join(real, 'pg_restore')} --section=pre-data "$@"; echo "pg_restore: error: simulated failure half-way" >&2; exit 1`,
  ];
  writeFileSync(path.join(dir, 'pg_restore'), `${script.join('\n')}\n`);
  chmodSync(path.join(dir, 'pg_restore'), 0o755);
  mkdirSync(path.join(dir, 'unused'), { recursive: true });
  return dir;
}

afterAll(async () => {
  for (const name of templates.splice(0)) {
    for (const db of await databasesLike(local, name)) await dropDatabase(local, db).catch(() => undefined);
  }
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});
