/**
 * How many WAL_LOG clones at once make cloning faster on this machine (issue 13: the pool's
 * refill concurrency). `node --import tsx bench/clone-concurrency.ts [MiB] [rounds]`: a template
 * of ~MiB (default 24) on a throwaway cluster with fsync on; for 1, 2, 3 and 4 clones at once,
 * `rounds` rounds (default 4, the levels interleaved) of that many concurrent CREATE DATABASE
 * ... STRATEGY WAL_LOG; prints the median wall time per round and the clones per second.
 */
import pg from 'pg';
import { startExtraCluster, stopExtraCluster } from './clusters.js';
import { median } from './lib.js';

const mib = Number(process.argv[2] ?? 24);
const rounds = Number(process.argv[3] ?? 4);
const levels = [1, 2, 3, 4];
const cluster = await startExtraCluster('clones', '/usr/lib/postgresql/15/bin', true);
process.on('exit', () => stopExtraCluster(cluster));
const admin = new pg.Client({ connectionString: cluster.adminUrl });
await admin.connect();
await admin.query('CREATE DATABASE tmpl');
const url = new URL(cluster.adminUrl);
url.pathname = '/tmpl';
const filler = new pg.Client({ connectionString: url.toString() });
await filler.connect();
await filler.query(`CREATE TABLE t AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, ${Math.round(mib * 11_000)}) AS g`);
await filler.end();
const size = (await admin.query<{ size: string }>("SELECT pg_size_pretty(pg_database_size('tmpl')) AS size")).rows[0]?.size;
const sessions = await Promise.all(levels.map(async () => {
  const client = new pg.Client({ connectionString: cluster.adminUrl });
  await client.connect();
  return client;
}));
const times = new Map<number, number[]>(levels.map((level) => [level, []]));
let n = 0;
for (let round = 0; round < rounds; round++) {
  for (const level of round % 2 === 0 ? levels : [...levels].reverse()) {
    await admin.query('CHECKPOINT');
    const names = Array.from({ length: level }, () => `c_${n++}`);
    const started = performance.now();
    await Promise.all(names.map((name, i) => (sessions[i] as pg.Client).query(`CREATE DATABASE ${name} TEMPLATE tmpl STRATEGY WAL_LOG`)));
    times.get(level)?.push(performance.now() - started);
    for (const name of names) await admin.query(`DROP DATABASE ${name}`);
  }
}
process.stdout.write(`template ${size}, fsync on, ${rounds} rounds per level, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}\n| clones at once | wall per round (median) | per clone | clones/s |\n|---:|---:|---:|---:|\n`);
for (const level of levels) {
  const wall = median(times.get(level) ?? []);
  process.stdout.write(`| ${level} | ${Math.round(wall)} ms | ${Math.round(wall / level)} ms | ${(level / (wall / 1000)).toFixed(2)} |\n`);
}
await Promise.all([...sessions, admin].map((client) => client.end()));
process.exit(0);
