import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A seeded random generator, so every run benchmarks the same repository. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Schema + a few MB of seed data as COPY blocks: the shape of a typical app repository. */
export function generateDataRepository(dir: string, options: { tables?: number; rowsPerTable?: number } = {}): void {
  const tables = options.tables ?? 12;
  const rows = options.rowsPerTable ?? 8000;
  const random = rng(42);
  mkdirSync(path.join(dir, '0_schema'), { recursive: true });
  mkdirSync(path.join(dir, '1_seed'), { recursive: true });
  const schema: string[] = ['CREATE SCHEMA bench;'];
  for (let t = 0; t < tables; t++) {
    schema.push(`CREATE TABLE bench.t${t} (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  amount numeric(12,2) NOT NULL,
  created_at timestamptz NOT NULL,
  note text
);
CREATE INDEX t${t}_name_idx ON bench.t${t} (name);`);
  }
  schema.push(`CREATE FUNCTION bench.total() RETURNS numeric LANGUAGE plpgsql AS $body$
DECLARE s numeric := 0;
BEGIN
  SELECT sum(amount) INTO s FROM bench.t0; -- a comment; with a semicolon
  RETURN s;
END
$body$;`);
  writeFileSync(path.join(dir, '0_schema', '010_tables.sql'), `${schema.join('\n\n')}\n`);
  for (let t = 0; t < tables; t++) {
    const lines = [`COPY bench.t${t} (id, name, amount, created_at, note) FROM stdin;`];
    for (let i = 1; i <= rows; i++) {
      const name = `name-${Math.floor(random() * 1e9).toString(36)}`;
      const amount = (random() * 10000).toFixed(2);
      const note = random() < 0.1 ? '\\N' : `note\\twith tab ${i} ${'x'.repeat(Math.floor(random() * 60))}`;
      lines.push(`${i}\t${name}\t${amount}\t2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00+00\t${note}`);
    }
    lines.push('\\.', '');
    writeFileSync(path.join(dir, '1_seed', `${String(t).padStart(3, '0')}_t${t}.sql`), lines.join('\n'));
  }
}

/** A thousand small files: what staleness checks and per-file overhead are measured on. */
export function generateManyFilesRepository(dir: string, files = 1000): void {
  const perDir = 100;
  for (let i = 0; i < files; i++) {
    const folder = path.join(dir, `${Math.floor(i / perDir)}_part`);
    mkdirSync(folder, { recursive: true });
    const table = `small_${i}`;
    writeFileSync(
      path.join(folder, `${String(i).padStart(4, '0')}_${table}.sql`),
      `CREATE TABLE ${table} (id int PRIMARY KEY, label text NOT NULL DEFAULT 'x');\n` +
        `INSERT INTO ${table} (id, label) VALUES (1, 'one'), (2, 'two; not a statement end'), (3, $$three$$);\n` +
        `COMMENT ON TABLE ${table} IS 'file ${i}';\n`,
    );
  }
}
