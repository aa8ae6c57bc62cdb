/**
 * Acceptance on real SQL (issue 18, psql variables): PostgREST's own test database
 * (../shared/realworld/postgrest/, not copied into the project), loaded in its documented order
 * (database, roles, schema, jwt, jsonschema, privileges, data) with `PGUSER` as a variable:
 *   psql, one session per file            -> the reference dump
 *   dbfast's in-process runner           -> its dump must equal the reference
 *   dbfast's psql runner                  -> its dump must equal the reference
 * plus `request.jwt.claim.id` set on the database by `ALTER DATABASE :DBNAME SET ...`.
 * Run with `npm run bench -- --only postgrest` (needs postgresql-15-postgis-3 on the server).
 * The files change roles (cluster-wide), so the three loads run one after another, each
 * database dropped before the next load.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type * as Sql from '../src/sql/index.js';
import type * as PgApi from '../src/pg/target.js';
import { formatMs, quoteIdent, realworld, ROOT, run, timeIt, urlFor, type BenchRow } from './lib.js';
import type { SuiteContext, SuiteReport } from './suite.js';

const CORPUS = realworld('postgrest');
const ORDER = ['database.sql', 'roles.sql', 'schema.sql', 'jwt.sql', 'jsonschema.sql', 'privileges.sql', 'data.sql'];
const ROLES = ['postgrest_test_anonymous', 'postgrest_test_default_role', 'postgrest_test_author', 'postgrest_test_superuser'];

/**
 * The dump without what differs between two loads of the same SQL: pg_dump's random `\restrict`
 * key, and timestamps of today (the data has rows made with now(), a few seconds apart per load).
 */
function dump(pgDump: string, url: string): string {
  const today = new Date().toISOString().slice(0, 10);
  const now = new RegExp(`${today} \\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?`, 'g');
  return run(pgDump, ['--no-owner', '--dbname', url])
    .split('\n')
    .filter((line) => !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict'))
    .map((line) => line.replace(now, '<now>'))
    .join('\n');
}

function firstDifference(a: string, b: string): string {
  const left = a.split('\n');
  const right = b.split('\n');
  const at = left.findIndex((line, index) => line !== right[index]);
  return at < 0 ? `the second dump has ${right.length - left.length} more lines` : `line ${at + 1}: ${JSON.stringify(left[at])} vs ${JSON.stringify(right[at])}`;
}

export async function postgrestSuite(ctx: SuiteContext): Promise<SuiteReport> {
  if (!existsSync(path.join(CORPUS, 'schema.sql'))) throw new Error(`the PostgREST corpus is not at ${CORPUS}`);
  const clusters = await ctx.clusters();
  const sql = (await import(pathToFileURL(path.join(ROOT, 'dist', 'sql', 'index.js')).href)) as typeof Sql;
  const pgApi = (await import(pathToFileURL(path.join(ROOT, 'dist', 'pg', 'target.js')).href)) as typeof PgApi;
  const server = clusters.local.adminUrl;
  const user = new URL(server).username || 'postgres';
  const psql = path.join(clusters.binDir, 'psql');
  const pgDump = path.join(clusters.binDir, 'pg_dump');
  const files = ORDER.map((name) => ({ relativePath: name, absolutePath: path.join(CORPUS, name) }));
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  const database = 'bench_postgrest';
  const fresh = async (): Promise<string> => {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
    for (const role of ROLES) await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
    return urlFor(server, database);
  };
  const claim = async (): Promise<string | undefined> => {
    const rows = await admin.query<{ setting: string }>(
      "SELECT unnest(setconfig) AS setting FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = $1)", [database]);
    return rows.rows.map((row) => row.setting).find((setting) => setting.startsWith('request.jwt.claim.id='));
  };
  try {
    ctx.log('postgrest: psql, one session per file');
    let url = await fresh();
    const psqlMs = await timeIt(() => {
      for (const file of files) run(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `PGUSER=${user}`, '-f', file.absolutePath, '-d', url], { cwd: CORPUS });
    });
    const reference = dump(pgDump, url);
    const referenceClaim = await claim();
    const rows: BenchRow[] = [];
    for (const runner of ['inprocess', 'psql'] as const) {
      ctx.log(`postgrest: dbfast, ${runner} runner`);
      url = await fresh();
      const ms = await timeIt(() => sql.runFiles(files, { target: pgApi.targetFromUrl(url), runner, pgBinDir: clusters.binDir, variables: { PGUSER: user } }));
      const ours = dump(pgDump, url);
      const same = ours === reference;
      const setting = await claim();
      rows.push({
        suite: 'postgrest', case: `${runner} runner: 7 files, PGUSER variable`, dbfastMs: ms, baselineMs: psqlMs, baseline: 'psql -f per file',
        target: "same dump as psql's, request.jwt.claim.id set",
        passed: same && setting !== undefined && setting === referenceClaim,
        note: `${same ? 'dumps equal' : `dumps differ: ${firstDifference(reference, ours)}`}; ${setting ?? 'request.jwt.claim.id not set'}`,
      });
      ctx.log(`  ${runner}: ${formatMs(ms)} (psql ${formatMs(psqlMs)}), ${same ? 'same dump' : 'DIFFERENT dump'}, ${setting ?? 'no claim setting'}`);
    }
    return { suite: 'postgrest', title: 'Real SQL: PostgREST test database', rows, data: { referenceLines: reference.split('\n').length, referenceClaim } };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`).catch(() => undefined);
    for (const role of ROLES) await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}
