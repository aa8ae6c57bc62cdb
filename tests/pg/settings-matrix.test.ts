import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isDbfastError, seed } from '../../src/index.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startCluster, stopCluster, type Cluster } from '../support/cluster.js';

/**
 * Issue 10 items 1-4: every command kind, given its connection settings in every way libpq
 * knows, against a server that takes only TLS over TCP (a self-signed certificate made here)
 * and a role with a scram password, must end the same way: all succeed, or all fail with the
 * same code and a hint that names what to change.
 */

const IS_ROOT = process.getuid?.() === 0;
const tag = randomBytes(3).toString('hex');
const ROLE = `mx_${tag}`;
// Characters that need escaping in a URL (: / @ %) and in ~/.pgpass (:).
const PASSWORD = `p@ss:w/rd%${tag}`;
const OS_USER = os.userInfo().username;

let cluster: Cluster;
let base: string;
let cert: string;

async function admin(sql: string, database = 'postgres'): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

interface WayContext {
  index: number;
  home: string;
  dir: string;
  /** The remote database this way deploys to. */
  remoteDb: string;
}

interface Way {
  name: string;
  /** Lines of [database] (without template_name). */
  database(ctx: WayContext): string[];
  /** The remote's url and extra keys. */
  remote(ctx: WayContext): { url: string; extra?: string[] };
  env(ctx: WayContext): Record<string, string>;
  /** Files to write (e.g. ~/.pgpass), before the commands run. */
  prepare?(ctx: WayContext): void;
  /** undefined: every command succeeds; else every command fails with CONNECTION_FAILED and a hint matching this. */
  fails?: RegExp;
}

const enc = encodeURIComponent;
const tcp = (db: string, query = '', host = '127.0.0.1'): string => `postgresql://${ROLE}@${host}:${cluster.port}/${db}${query}`;
const pgpassLine = (): string => `127.0.0.1:${cluster.port}:*:${ROLE}:${PASSWORD.replaceAll('\\', '\\\\').replaceAll(':', '\\:')}\n`;

const WAYS: Way[] = [
  {
    name: 'DATABASE_URL with the password in it',
    database: () => [],
    remote: () => ({ url: '${MX_REMOTE_URL}' }),
    env: (c) => ({ DATABASE_URL: tcp('mx_home').replace(`${ROLE}@`, `${ROLE}:${enc(PASSWORD)}@`), MX_REMOTE_URL: tcp(c.remoteDb).replace(`${ROLE}@`, `${ROLE}:${enc(PASSWORD)}@`) }),
  },
  {
    name: 'password_env',
    database: () => [`url = "${tcp('mx_home')}"`, 'password_env = "MX_PW"'],
    remote: (c) => ({ url: tcp(c.remoteDb), extra: ['password_env = "MX_PW"'] }),
    env: () => ({ MX_PW: PASSWORD }),
  },
  {
    name: 'PG* variables (the remote URL names only its database)',
    database: () => [],
    remote: (c) => ({ url: `postgresql:///${c.remoteDb}` }),
    env: () => ({ PGHOST: '127.0.0.1', PGPORT: String(cluster.port), PGUSER: ROLE, PGPASSWORD: PASSWORD, PGDATABASE: 'mx_home' }),
  },
  {
    name: '~/.pgpass',
    database: () => [`url = "${tcp('mx_home')}"`],
    remote: (c) => ({ url: tcp(c.remoteDb) }),
    env: () => ({}),
    prepare: (c) => writeFileSync(path.join(c.home, '.pgpass'), pgpassLine(), { mode: 0o600 }),
  },
  {
    name: 'PGPASSFILE, PGSSLMODE=require',
    database: () => [`url = "${tcp('mx_home')}"`],
    remote: (c) => ({ url: tcp(c.remoteDb) }),
    env: (c) => ({ PGPASSFILE: path.join(c.dir, 'passfile'), PGSSLMODE: 'require' }),
    prepare: (c) => writeFileSync(path.join(c.dir, 'passfile'), pgpassLine(), { mode: 0o600 }),
  },
  ...(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const).map(
    (mode): Way => ({
      name: `sslmode=${mode} in the URLs`,
      database: () => [`url = "${tcp('mx_home', `?sslmode=${mode}`)}"`, 'password_env = "MX_PW"'],
      remote: (c) => ({ url: tcp(c.remoteDb, `?sslmode=${mode}`), extra: ['password_env = "MX_PW"'] }),
      env: () => ({ MX_PW: PASSWORD }),
      // The server takes TCP connections only with TLS; verify-* need the CA, as in libpq.
      fails: mode === 'disable' ? /pg_hba\.conf refuses this connection \(sslmode=disable from (database|remotes\.target)\.url\)/ : mode.startsWith('verify') ? /sslrootcert=/ : undefined,
    }),
  ),
  {
    name: 'sslmode=verify-ca with sslrootcert',
    database: () => [`url = "${tcp('mx_home', `?sslmode=verify-ca&sslrootcert=${enc(cert)}`)}"`, 'password_env = "MX_PW"'],
    remote: (c) => ({ url: tcp(c.remoteDb, `?sslmode=verify-ca&sslrootcert=${enc(cert)}`), extra: ['password_env = "MX_PW"'] }),
    env: () => ({ MX_PW: PASSWORD }),
  },
  {
    name: 'sslmode=verify-full with PGSSLROOTCERT, by host name',
    database: () => [`url = "${tcp('mx_home', '?sslmode=verify-full', 'localhost')}"`, 'password_env = "MX_PW"'],
    remote: (c) => ({ url: tcp(c.remoteDb, '?sslmode=verify-full', 'localhost'), extra: ['password_env = "MX_PW"'] }),
    env: () => ({ MX_PW: PASSWORD, PGSSLROOTCERT: cert }),
  },
  {
    name: 'a Unix socket ([database] host, ?host= in the remote URL)',
    database: () => [`host = "${cluster.socketDir}"`, `port = ${cluster.port}`, `user = "${ROLE}"`, 'dbname = "mx_home"'],
    remote: (c) => ({ url: `postgresql://${ROLE}@/${c.remoteDb}?host=${enc(cluster.socketDir)}&port=${cluster.port}` }),
    env: () => ({}),
  },
  {
    name: 'PGHOST and no user anywhere: the OS user',
    database: () => [],
    remote: (c) => ({ url: `postgresql:///${c.remoteDb}` }),
    env: () => ({ PGHOST: cluster.socketDir, PGPORT: String(cluster.port) }),
    fails: new RegExp(`User "${OS_USER}" comes from the OS user`),
  },
];

/**
 * How a command ended: what "the same outcome" compares. A failure is its exit code, the code of
 * the connection failure and its hint; a deploy refuses in its preflight (PREFLIGHT_FAILED,
 * before any change) and names the same failure as its `connect` check, so that check is read.
 */
interface Outcome {
  ok: boolean;
  exitCode?: number | null;
  code?: string;
  hint?: string;
}

interface ErrorJson {
  code: string;
  hint: string | null;
  details?: { checks?: Array<{ name: string; ok: boolean; hint?: string }> };
}

function failureOf(error: ErrorJson, exitCode: number | null): Outcome {
  const connect = error.code === 'PREFLIGHT_FAILED' ? error.details?.checks?.filter((check) => !check.ok) : undefined;
  if (connect?.length === 1 && connect[0]?.name === 'connect') return { ok: false, exitCode, code: 'CONNECTION_FAILED', hint: connect[0].hint ?? '' };
  return { ok: false, exitCode, code: error.code, hint: error.hint ?? '' };
}

interface Run {
  ctx: WayContext;
  way: Way;
  /** The CLI's environment: nothing of this process's connection settings, only the way's. */
  env: Record<string, string | undefined>;
  outputs: CliResult[];
}

const CLEARED = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGPASSFILE', 'PGSSLMODE', 'PGSSLROOTCERT', 'PGSSLCERT', 'PGSSLKEY', 'PGSERVICE', 'PGREQUIRESSL', 'DATABASE_URL', 'DBFAST_DATABASE_URL', 'DBFAST_CONFIG', 'DBFAST_TEMPLATE_NAME', 'USER', 'LOGNAME'];

async function cli(run: Run, args: string[]): Promise<Outcome> {
  const result = await runCli(['--json', ...args], { cwd: run.ctx.dir, env: run.env });
  run.outputs.push(result);
  if (result.exitCode === 0) return { ok: true };
  try {
    return failureOf((JSON.parse(result.stdout) as { error: ErrorJson }).error, result.exitCode);
  } catch {
    return { ok: false, exitCode: result.exitCode, code: 'no JSON error', hint: result.stderr.slice(-500) };
  }
}

const dbName = (run: Run, kind: string): string => `mx_${run.ctx.index}_${kind}_${tag}`;

/** Every command kind, in an order where each finds what it needs (the template, a deployed remote). */
const COMMANDS: Array<{ name: string; run(run: Run): Promise<Outcome> }> = [
  { name: 'seed (fast path)', run: (r) => cli(r, ['seed', '--output', dbName(r, 'fast')]) },
  // -oNAME is a form the fast path leaves to commander.
  { name: 'seed (commander)', run: (r) => cli(r, ['seed', `-o${dbName(r, 'cmd')}`]) },
  {
    name: 'seed() (library)',
    run: async (r) => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: r.ctx.home, ...r.way.env(r.ctx) };
      try {
        await seed({ configPath: path.join(r.ctx.dir, 'dbfast.toml'), env, output: dbName(r, 'lib') });
        return { ok: true };
      } catch (error) {
        if (!isDbfastError(error)) throw error;
        return failureOf(error.toJSON() as unknown as ErrorJson, error.exitCode);
      }
    },
  },
  { name: 'build --force --runner psql', run: (r) => cli(r, ['build', '--force', '--runner', 'psql']) },
  { name: 'status', run: (r) => cli(r, ['status']) },
  { name: 'list', run: (r) => cli(r, ['list']) },
  { name: 'deploy', run: (r) => cli(r, ['deploy', '--remote', 'target']) },
  { name: 'backup create', run: (r) => cli(r, ['backup', 'create', '--remote', 'target']) },
  { name: 'migrate status', run: (r) => cli(r, ['migrate', 'status', '--remote', 'target']) },
];

function writeProject(way: Way, ctx: WayContext): void {
  const remote = way.remote(ctx);
  const lines = [
    '[database]', ...way.database(ctx), `template_name = "mxt_${ctx.index}_${tag}"`, '',
    '[repository]', 'path = "db"', '',
    '[environments.local]', '',
    '[remotes.target]', `url = "${remote.url}"`, 'environment = "local"', 'allow_destructive = true', 'no_owner = true', ...(remote.extra ?? []), '',
    '[backup]', 'dir = "backups"', '',
  ];
  writeFileSync(path.join(ctx.dir, 'dbfast.toml'), lines.join('\n'));
  for (const [file, sql] of [['0_schema/010_item.sql', 'CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);\n'], ['1_seed/010_items.sql', "INSERT INTO item VALUES (1, 'kettle'), (2, 'teapot');\n"]] as const) {
    mkdirSync(path.dirname(path.join(ctx.dir, 'db', file)), { recursive: true });
    writeFileSync(path.join(ctx.dir, 'db', file), sql);
  }
}

describe('every command, every way of giving connection settings: one outcome', () => {
  beforeAll(async () => {
    base = mkdtempSync(path.join(os.tmpdir(), 'dbfast-matrix-'));
    chmodSync(base, 0o755);
    cert = path.join(base, 'server.crt');
    const key = path.join(base, 'server.key');
    execFileSync('openssl', [
      'req', '-new', '-x509', '-days', '2', '-nodes', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    chmodSync(key, 0o600);
    chmodSync(cert, 0o644);
    if (IS_ROOT) execFileSync('chown', ['postgres', key, cert]);
    cluster = await startCluster({
      name: 'matrix',
      binDir: inject('pgBinDir'),
      scram: true,
      settings: ['ssl=on', `ssl_cert_file=${cert}`, `ssl_key_file=${key}`],
      // TCP only with TLS and a password; the socket trusts (the socket way needs no password).
      hba: 'local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n',
    });
    await admin(`CREATE ROLE "${ROLE}" LOGIN CREATEDB PASSWORD '${PASSWORD}'`);
    await admin(`CREATE DATABASE mx_home OWNER "${ROLE}"`);
  }, 120_000);

  afterAll(() => {
    if (cluster) stopCluster(cluster);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it.concurrent.each(WAYS.map((way, index) => ({ way, index, name: way.name })))('$name', async ({ way, index }) => {
    const dir = mkdtempSync(path.join(base, `way${index}-`));
    const home = path.join(dir, 'home');
    mkdirSync(home);
    const ctx: WayContext = { index, home, dir, remoteDb: `mx_r_${index}_${tag}` };
    await admin(`CREATE DATABASE "${ctx.remoteDb}" OWNER "${ROLE}"`);
    writeProject(way, ctx);
    way.prepare?.(ctx);
    const env: Record<string, string | undefined> = Object.fromEntries(CLEARED.map((name) => [name, undefined]));
    Object.assign(env, { HOME: home }, way.env(ctx));
    const run: Run = { ctx, way, env, outputs: [] };

    const outcomes: Record<string, Outcome> = {};
    for (const command of COMMANDS) outcomes[command.name] = await command.run(run);

    const expected = Object.fromEntries(
      COMMANDS.map((command) => [command.name, way.fails ? { ok: false, exitCode: 1, code: 'CONNECTION_FAILED', hint: expect.stringMatching(way.fails) } : { ok: true }]),
    );
    expect(outcomes, `outputs:\n${run.outputs.map((o) => o.stdout + o.stderr).join('\n---\n')}`).toEqual(expected);
    for (const output of run.outputs) {
      // No driver noise (pgpass DeprecationWarning, sslmode SECURITY WARNING), and no secret anywhere.
      expect(output.stderr).not.toMatch(/DeprecationWarning|SECURITY WARNING/);
      for (const secret of [PASSWORD, enc(PASSWORD)]) expect(output.stdout + output.stderr).not.toContain(secret);
    }
    if (way.fails) return;
    // What succeeded was done as the role, on the matrix server: the clones are the role's, the deploy arrived.
    const owners = await admin(`SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname LIKE 'mx\\_${index}\\_%' ORDER BY 1`);
    expect(owners.map((row) => row.owner)).toEqual([ROLE, ROLE, ROLE]);
    expect(await admin('SELECT count(*)::int AS n FROM item', ctx.remoteDb)).toEqual([{ n: 2 }]);
  }, 600_000);
});
