import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runFiles } from '../../src/sql/index.js';
import { dumpSchemaAndData } from '../support/differential.js';
import { freshTarget } from '../support/sql.js';

const pgBinDir = inject('pgBinDir') || undefined;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'dbfast-diff-'));
afterAll(() => process.env.KEEP_SCRATCH ? undefined : rmSync(scratch, { recursive: true, force: true }));

/** A seeded random generator, so a failing round can be replayed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const VALUES = ["plain", "it's", "back\\slash", "colon :v1 inside", "semi;colon", "$$dollar$$", "ünï 😀", "two\nlines", '"quoted"', ''];

/** Expressions psql reads differently depending on where a `:name` stands; each yields text. */
const EXPRESSIONS = [
  ":'v1'", ":'v2'", "':v1'", '$$:v1$$', "$q$:'v2'$q$", "E'\\\\:v1'", ':{?v1}::text', ':{?nope}::text',
  "(:'v3')::text", "'a' || :'v1' || 'b'", ":'nope'::text", ":'v1'::text", '(:n + 1)::text', 'length(:\'v2\')::text',
  "/* :v1 */ 'commented'", "'x'::text -- :v2 in a comment\n",
];

function randomSql(random: () => number, round: number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const lines = [`CREATE TABLE :"tbl" (id int, a text, b text);`];
  for (let i = 1; i <= 30; i++) {
    if (random() < 0.2) {
      const name = pick(['v1', 'v2', 'v3']);
      const parts = [`'${pick(VALUES).replaceAll('\\', '\\\\').replaceAll("'", "''").replaceAll('\n', '\\n')}'`];
      if (random() < 0.5) parts.push(`:${pick(['v1', 'v2', 'v3', 'nope'])}`);
      if (random() < 0.3) parts.push(":'v1'");
      lines.push(`\\set ${name} ${parts.join(' ')}`);
    }
    // Expressions that use :'nope' would be errors in both runners: keep them inside quotes in half the rounds.
    const expression = (): string => {
      const chosen = pick(EXPRESSIONS);
      return round % 2 === 0 && chosen.includes("'nope'") ? "':nope'" : chosen;
    };
    lines.push(`INSERT INTO :"tbl" VALUES (${i}, ${expression()}, ${expression()});`);
  }
  return `${lines.join('\n')}\n`;
}

describe('differential: generated SQL with psql variables, in-process against psql, dumps compared', () => {
  it('gives the same database as the psql runner for every generated file (or the same error at the same place)', async () => {
    const random = rng(2024);
    for (let round = 0; round < 6; round++) {
      const file = path.join(scratch, `round_${round}.sql`);
      writeFileSync(file, randomSql(random, round));
      const sqlFile = { relativePath: `round_${round}.sql`, absolutePath: file };
      const variables = { tbl: `Fuzz "${round}"`, v1: "o'neil:x", v2: 'back\\slash', v3: ':v1 again', n: '41' };
      const inprocess = await freshTarget();
      const viaPsql = await freshTarget();
      const [ours, theirs] = await Promise.all([
        runFiles([sqlFile], { target: inprocess.target, variables }).then(() => undefined, (error: Error) => error.message.split('\n')[0]),
        runFiles([sqlFile], { target: viaPsql.target, runner: 'psql', pgBinDir, variables }).then(() => undefined, (error: Error) => error.message.split('\n')[0]),
      ]);
      expect(ours, `round ${round}: the same outcome`).toBe(theirs);
      if (ours === undefined) expect(dumpSchemaAndData(inprocess.url), `round ${round}`).toBe(dumpSchemaAndData(viaPsql.url));
    }
  });
});
