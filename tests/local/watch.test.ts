import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { seed, watch, type WatchEvent, type WatchSession } from '../../src/index.js';
import { diffFiles } from '../../src/local/watch.js';
import { isWatchedPath } from '../../src/local/watch-files.js';
import { local, query, urlFor } from '../support/db.js';
import { makeProject, projectDatabases, type TestProject } from '../support/project.js';

/** Every event of a watch, and a way to wait for the next one that matches. */
function recorder(): { events: WatchEvent[]; onEvent(event: WatchEvent): void; next<T extends WatchEvent['type']>(type: T, timeoutMs?: number): Promise<Extract<WatchEvent, { type: T }>> } {
  const events: WatchEvent[] = [];
  let seen = 0;
  const waiters: Array<() => void> = [];
  return {
    events,
    onEvent(event) {
      events.push(event);
      for (const wake of waiters.splice(0)) wake();
    },
    async next(type, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (seen < events.length) {
          const event = events[seen++] as WatchEvent;
          if (event.type === type) return event as Extract<WatchEvent, { type: typeof type }>;
          if (event.type === 'failed' && type !== 'failed') throw new Error(`watch failed instead: ${event.error.message}`);
        }
        if (Date.now() > deadline) throw new Error(`no ${type} event within ${timeoutMs} ms; events: ${JSON.stringify(events.map((e) => e.type))}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

async function items(database: string): Promise<string[]> {
  return (await query<{ name: string }>(urlFor(local.adminUrl, database), 'SELECT name FROM item ORDER BY id')).map((row) => row.name);
}

const sessions: WatchSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
});

async function start(project: TestProject, outputs: string[]): Promise<ReturnType<typeof recorder>> {
  const events = recorder();
  sessions.push(await watch({ configPath: project.configPath, env: {}, outputs, onEvent: events.onEvent }));
  await events.next('watching');
  return events;
}

describe('watch (library, real file-system events, real PostgreSQL)', () => {
  it('creates the output at start, then rebuilds and refreshes it on edit, add, delete and rename-over', async () => {
    const project = makeProject();
    const output = `${project.templateName}_w_dev`;
    const events = await start(project, [output]);
    const initial = events.events.find((event) => event.type === 'refreshed');
    expect(initial).toMatchObject({ initial: true, outputs: [{ database: output }] });
    expect(await items(output)).toEqual(['kettle', 'teapot']);

    project.write('1_seed/010_items.sql', "INSERT INTO item VALUES (1, 'kettle'), (2, 'teapot'), (3, 'cup');\n");
    const edited = await events.next('refreshed');
    expect(edited.changes).toEqual([{ file: '1_seed/010_items.sql', change: 'modified' }]);
    expect(edited.build.rebuilt).toBe(true);
    expect(await items(output)).toEqual(['kettle', 'teapot', 'cup']);

    project.write('1_seed/020_more.sql', "INSERT INTO item VALUES (4, 'saucer');\n");
    expect((await events.next('refreshed')).changes).toEqual([{ file: '1_seed/020_more.sql', change: 'added' }]);
    expect(await items(output)).toEqual(['kettle', 'teapot', 'cup', 'saucer']);

    project.remove('1_seed/020_more.sql');
    expect((await events.next('refreshed')).changes).toEqual([{ file: '1_seed/020_more.sql', change: 'removed' }]);
    expect(await items(output)).toEqual(['kettle', 'teapot', 'cup']);

    // An editor's safe save: write a temporary file beside it, then rename it over the original.
    const file = path.join(project.dir, 'db', '1_seed', '010_items.sql');
    const temporary = `${file}.tmp.4242`;
    writeFileSync(temporary, "INSERT INTO item VALUES (1, 'mug');\n");
    renameSync(temporary, file);
    const renamed = await events.next('refreshed');
    expect(renamed.changes).toEqual([{ file: '1_seed/010_items.sql', change: 'modified' }]);
    expect(renamed.touched).toEqual(['1_seed/010_items.sql']);
    expect(await items(output)).toEqual(['mug']);
  });

  it('a broken save keeps the template and the output, names file:line:column, and the next good save recovers', async () => {
    const project = makeProject();
    const output = `${project.templateName}_w_broken`;
    const events = await start(project, [output]);
    const before = (await query<{ comment: string }>(local.adminUrl, "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1", [project.template()]))[0];

    project.write('1_seed/010_items.sql', "INSERT INTO item VALUES (1, 'kettle');\nINSERT INTO item VALUES (2, 'teapot', 'extra');\n");
    const failed = await events.next('failed');
    expect(failed.error.code).toBe('SQL_ERROR');
    expect(failed.error.message).toMatch(/^1_seed\/010_items\.sql:2:\d+: /);
    expect(failed.kept).toEqual([output]);
    expect(await items(output)).toEqual(['kettle', 'teapot']);
    const after = (await query<{ comment: string }>(local.adminUrl, "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1", [project.template()]))[0];
    expect(after).toEqual(before);
    expect((await projectDatabases(project)).filter((name) => name.includes('__dbfast_'))).toEqual([]);

    project.write('1_seed/010_items.sql', "INSERT INTO item VALUES (1, 'kettle'), (2, 'teapot'), (5, 'jug');\n");
    const recovered = await events.next('refreshed');
    expect(recovered.recovered).toBe(true);
    expect(await items(output)).toEqual(['kettle', 'teapot', 'jug']);
  });

  it('ends the sessions connected to an output to recreate it, and names them', async () => {
    const project = makeProject();
    const output = `${project.templateName}_w_busy`;
    const events = await start(project, [output]);
    const client = new pg.Client({ connectionString: urlFor(local.adminUrl, output), application_name: 'someone-s psql' });
    client.on('error', () => undefined);
    await client.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    project.write('1_seed/010_items.sql', "INSERT INTO item VALUES (7, 'tray');\n");
    const refreshed = await events.next('refreshed');
    expect(refreshed.outputs[0]?.endedSessions).toEqual([expect.objectContaining({ pid, application: 'someone-s psql' })]);
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await client.end().catch(() => undefined);
    expect(await items(output)).toEqual(['tray']);
  });

  it('a cycle whose template the outputs already hold (rebuilt and re-seeded by another process) leaves them and their sessions alone', async () => {
    const project = makeProject();
    const output = `${project.templateName}_w_held`;
    const events = await start(project, [output]);
    // Another process rebuilds the template and recreates the output from it.
    await seed({ configPath: project.configPath, env: {}, output, force: true, rebuild: true });
    const client = new pg.Client({ connectionString: urlFor(local.adminUrl, output), application_name: 'someone-s psql' });
    client.on('error', () => undefined);
    await client.connect();
    // A save with the same content: the template is fresh, and the output already holds it.
    project.write('1_seed/010_items.sql', readFileSync(path.join(project.dir, 'db', '1_seed', '010_items.sql'), 'utf8'));
    const cycle = await events.next('unchanged');
    expect(cycle.touched).toEqual(['1_seed/010_items.sql']);
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await client.end();
    expect(events.events.filter((event) => event.type === 'refreshed' && !event.initial)).toEqual([]);
  });

  it('editor side files and files outside the environment do not rebuild anything', async () => {
    const project = makeProject({ environments: '[environments.local]\nexclude_directories = ["9_scratch"]\n' });
    const output = `${project.templateName}_w_side`;
    const events = await start(project, [output]);
    const dir = path.join(project.dir, 'db', '1_seed');
    for (const name of ['.010_items.sql.swp', '4913', '010_items.sql~', '#010_items.sql#']) {
      writeFileSync(path.join(dir, name), 'garbage');
      rmSync(path.join(dir, name));
    }
    project.write('9_scratch/001_notes.sql', 'this is not SQL at all');
    const unchanged = await events.next('unchanged');
    expect(unchanged.touched).toEqual(['9_scratch/001_notes.sql']);
    expect(events.events.filter((event) => event.type === 'refreshed')).toHaveLength(1);
  });

  it('refuses to take over an existing database dbfast did not make', async () => {
    const project = makeProject();
    const output = `${project.templateName}_w_theirs`;
    await query(local.adminUrl, `CREATE DATABASE "${output}"`);
    await expect(watch({ configPath: project.configPath, env: {}, outputs: [output], onEvent: () => undefined })).rejects.toMatchObject({ code: 'NOT_MADE_BY_DBFAST' });
    expect(await projectDatabases(project)).toEqual([output]);
  });
});

describe('watch helpers', () => {
  it('isWatchedPath keeps what the scanner reads and drops editor side files', () => {
    expect(isWatchedPath('0_schema/010_item.sql', false)).toBe(true);
    expect(isWatchedPath('0_schema', true)).toBe(true);
    expect(isWatchedPath('0_schema/010_ITEM.SQL', false)).toBe(true);
    for (const name of ['0_schema/.010_item.sql.swp', '0_schema/4913', '0_schema/010_item.sql~', '0_schema/#010_item.sql#', '0_schema/.#010_item.sql', '.git/index', 'node_modules/x/a.sql', '0_schema/010_item.sql.tmp.1']) {
      expect(isWatchedPath(name, false), name).toBe(false);
    }
  });

  it('diffFiles names added, modified and removed files by content', () => {
    const base = { dbfastVersion: '', environment: 'local', template: 't', fileCount: 2, filterHash: '', serverVersion: 150000, builtAt: '', sizeBytes: 0 };
    const before = { ...base, files: { 'a.sql': '1', 'b.sql': '2' } };
    const after = { ...base, files: { 'a.sql': '1', 'b.sql': '3', 'c.sql': '4' } };
    expect(diffFiles(before, after)).toEqual([
      { file: 'b.sql', change: 'modified' },
      { file: 'c.sql', change: 'added' },
    ]);
    expect(diffFiles(after, before)).toEqual([
      { file: 'b.sql', change: 'modified' },
      { file: 'c.sql', change: 'removed' },
    ]);
  });
});
