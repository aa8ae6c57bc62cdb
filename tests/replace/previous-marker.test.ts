import { describe, expect, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { databasesLike, query, remote, urlFor } from '../support/db.js';
import { asAccount, cli, createRemoteAccount, type RemoteAccount } from '../support/backup.js';
import { snapshot, writeDeployProject, type DeployProject } from '../support/deploy.js';

/*
 * `<db>__dbfast_prev` is a plain name anybody can give a database. dbfast drops, renames and
 * swaps back only a previous copy it made itself (its comment is dbfast's marker); a user's
 * database on that name stops deploy, restore and rollback before anything changes.
 */

interface Failure {
  error: { code: string; message: string; hint: string };
}

async function commentOf(database: string): Promise<string | null | undefined> {
  const rows = await query<{ c: string | null }>(remote.adminUrl, "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1", [database]);
  return rows[0]?.c;
}

async function keepMe(database: string): Promise<number | null> {
  const rows = await query<{ n: number }>(urlFor(remote.adminUrl, database), 'SELECT count(*)::int AS n FROM keep_me').catch(() => []);
  return rows[0]?.n ?? null;
}

/** A remote whose live database holds keep_me (5 rows) and has a comment of its own. */
async function remoteWithData(prefix: string): Promise<{ account: RemoteAccount; project: DeployProject; previous: string }> {
  const account = await createRemoteAccount({ createdb: true, prefix });
  await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me SELECT generate_series(1, 5)');
  await query(remote.adminUrl, `COMMENT ON DATABASE "${account.database}" IS 'the shop''s data'`);
  const project = writeDeployProject([{ name: 'staging', account, backup: false }]);
  return { account, project, previous: `${account.database}__dbfast_prev` };
}

/** The user's own database on the previous name: owned by the deploying role, so nothing but dbfast's care protects it. */
async function usersDatabaseOn(name: string, account: RemoteAccount): Promise<void> {
  await query(remote.adminUrl, `CREATE DATABASE "${name}" OWNER "${account.role}"`);
  await query(urlFor(remote.adminUrl, name), 'CREATE TABLE precious (x int); INSERT INTO precious VALUES (42)');
  await query(remote.adminUrl, `COMMENT ON DATABASE "${name}" IS 'mine'`);
}

function expectRefused(result: CliResult, previous: string): Failure['error'] {
  expect(result.exitCode, result.stdout + result.stderr).toBe(2);
  const error = parseJson<Failure>(result).error;
  expect(error.code).toBe('SIDE_NAME_TAKEN');
  expect(error.message).toContain(`"${previous}"`);
  expect(error.message).toMatch(/not .*dbfast/);
  expect(error.hint).toContain(`ALTER DATABASE "${previous}" RENAME TO`);
  return error;
}

async function expectUntouched(previous: string, account: RemoteAccount, liveBefore: string): Promise<void> {
  expect(await query(urlFor(remote.adminUrl, previous), 'SELECT x FROM precious')).toEqual([{ x: 42 }]);
  expect(await commentOf(previous)).toBe('mine');
  expect(snapshot(account.adminDbUrl)).toBe(liveBefore);
  expect(await commentOf(account.database)).toBe("the shop's data");
  // No side database and no transient one left behind either.
  expect(await databasesLike(remote, `${account.database}__dbfast`)).toEqual([previous]);
}

describe("a database on the previous name that dbfast did not make (issue 9: nothing foreign touched)", () => {
  it('deploy refuses before changing anything', async () => {
    const { account, project, previous } = await remoteWithData('pvdep');
    await usersDatabaseOn(previous, account);
    const before = snapshot(account.adminDbUrl);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expectRefused(result, previous);
    await expectUntouched(previous, account, before);
  });

  it('backup restore refuses before changing anything', async () => {
    const { account, project, previous } = await remoteWithData('pvrst');
    const created = await cli(project, ['--json', 'backup', 'create', '--remote', 'staging']);
    expect(created.exitCode, created.stdout + created.stderr).toBe(0);
    const id = parseJson<{ backup: { id: string } }>(created).backup.id;
    await asAccount(account, 'DELETE FROM keep_me WHERE id > 2');
    await usersDatabaseOn(previous, account);
    const before = snapshot(account.adminDbUrl);
    const result = await cli(project, ['--json', 'backup', 'restore', '--remote', 'staging', '--backup-id', id]);
    expectRefused(result, previous);
    await expectUntouched(previous, account, before);
  });

  it('rollback refuses before changing anything', async () => {
    const { account, project, previous } = await remoteWithData('pvrbk');
    await usersDatabaseOn(previous, account);
    const before = snapshot(account.adminDbUrl);
    const result = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
    expectRefused(result, previous);
    await expectUntouched(previous, account, before);
  });
});

describe("dbfast's previous copy carries its marker through swaps, rollbacks and deploys", () => {
  it('deploy marks it, rollback exchanges marker and comment, a later deploy replaces it', async () => {
    const { account, project, previous } = await remoteWithData('pvlife');
    const deployed = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    expect(await keepMe(previous)).toBe(5);
    const marker = await commentOf(previous);
    expect(marker).toMatch(/^dbfast previous database/);
    expect(marker).toContain(`"${previous}"`);
    expect(await commentOf(account.database)).toBe("the shop's data");

    // Rollback: the old database is live again with the live comment; the deployed one carries the marker.
    const back = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
    expect(back.exitCode, back.stdout + back.stderr).toBe(0);
    expect(await keepMe(account.database)).toBe(5);
    expect(await keepMe(previous)).toBeNull();
    expect(await commentOf(account.database)).toBe("the shop's data");
    expect(await commentOf(previous)).toBe(marker);

    // Rolling back again rolls forward, the same way.
    const forward = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
    expect(forward.exitCode, forward.stdout + forward.stderr).toBe(0);
    expect(await keepMe(previous)).toBe(5);
    expect([await commentOf(account.database), await commentOf(previous)]).toEqual(["the shop's data", marker]);

    // The next deploy replaces dbfast's previous copy (it is the one being replaced now that is kept).
    const again = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(await keepMe(previous)).toBeNull();
    expect([await commentOf(account.database), await commentOf(previous)]).toEqual(["the shop's data", marker]);
    expect(await databasesLike(remote, `${account.database}__dbfast`)).toEqual([previous]);
  });

  it('a copy kept by an older dbfast (no marker) is refused with the statement that marks it; marked, it works', async () => {
    const { account, project, previous } = await remoteWithData('pvold');
    const deployed = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    // What an older dbfast left: the previous copy still has the live database's comment.
    await query(remote.adminUrl, `COMMENT ON DATABASE "${previous}" IS 'the shop''s data'`);
    const before = snapshot(account.adminDbUrl);
    for (const args of [['deploy'], ['rollback']]) {
      const refused = await cli(project, ['--json', ...args, '--remote', 'staging']);
      const error = expectRefused(refused, previous);
      expect(error.hint).toMatch(/older dbfast/);
      expect(await keepMe(previous)).toBe(5);
      expect(snapshot(account.adminDbUrl)).toBe(before);
    }
    const error = parseJson<Failure>(await cli(project, ['--json', 'rollback', '--remote', 'staging'])).error;
    const statement = /COMMENT ON DATABASE .*? IS '(?:[^']|'')*'/.exec(error.hint)?.[0];
    expect(statement).toBeDefined();
    await query(remote.adminUrl, statement as string);
    const back = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
    expect(back.exitCode, back.stdout + back.stderr).toBe(0);
    expect(await keepMe(account.database)).toBe(5);
  });
});
