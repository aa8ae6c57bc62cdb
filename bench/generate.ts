import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A seeded random generator, so every run benchmarks the same repository. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Schema + a few MB of seed data as COPY blocks + a small test layer: the shape of a typical app
 * repository (and of its layers: schema, seed data, test data).
 */
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
  writeTestLayer(dir, `INSERT INTO bench.t0 (id, name, amount, created_at) SELECT 1000000 + g, 'test-' || g, g, '2024-06-01' FROM generate_series(1, 20) AS g;\n`);
}

/** `2_test/`: a few rows a developer edits often, on top of the seed data. */
function writeTestLayer(dir: string, sql: string): void {
  mkdirSync(path.join(dir, '2_test'), { recursive: true });
  writeFileSync(path.join(dir, '2_test', '010_fixtures.sql'), sql);
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

/**
 * pagila as a layered dbfast repository: `0_schema/` its schema file; `1_data/` its data, one
 * file per table as a repository would keep it (pg_dump's preamble, then that table's COPY block,
 * in pg_dump's order; the sequence values last); `2_test/` a few rows of test data.
 */
export function pagilaRepository(source: string, dir: string): void {
  mkdirSync(path.join(dir, '0_schema'), { recursive: true });
  mkdirSync(path.join(dir, '1_data'), { recursive: true });
  copyFileSync(path.join(source, 'pagila-schema.sql'), path.join(dir, '0_schema', 'pagila-schema.sql'));
  const text = readFileSync(path.join(source, 'pagila-data.sql'), 'utf8');
  const firstBlock = text.search(/^COPY /m);
  const preamble = text.slice(0, firstBlock).replace(/^--.*\n/gm, '');
  const tail = text.lastIndexOf('\n\\.\n');
  const blocks = text.slice(firstBlock, tail + 4).split(/(?<=\n\\\.\n)/).map((block) => block.replace(/^(--.*\n|\n)+/, ''));
  blocks.forEach((block, index) => {
    const table = /^COPY public\.(\w+)/.exec(block)?.[1] ?? `part${index}`;
    writeFileSync(path.join(dir, '1_data', `${String((index + 1) * 10).padStart(3, '0')}_${table}.sql`), `${preamble}${block}`);
  });
  writeFileSync(path.join(dir, '1_data', '900_sequences.sql'), `${preamble}${text.slice(tail + 4)}`);
  writeTestLayer(dir, "INSERT INTO public.actor (actor_id, first_name, last_name) VALUES (9001, 'TEST', 'ACTOR'), (9002, 'OTHER', 'ACTOR');\n");
}

/** What `[environments.local]` says about layers for each generated repository. */
export const BENCH_LAYERS = {
  /** Seed and pagila data only load rows: the data layer runs in parallel, like pg_restore -j. */
  data: 'layers = [{ folders = ["0_schema"] }, { folders = ["1_seed"], parallel = true }, { folders = ["2_test"] }]',
  pagila: 'layers = [{ folders = ["0_schema"] }, { folders = ["1_data"], parallel = true }, { folders = ["2_test"] }]',
  /** One layer per folder (the default): 10 layers of 100 files. */
  files: '',
} as const;

/**
 * The deploy suite's template: three tables with realistic, not trivially compressible
 * content (10% customers, 60% orders, 30% events), generated by the server from a few small
 * SQL files, so a template of millions of rows needs no hundreds of MB of SQL on disk.
 * Keys and indexes come after the data, as pg_dump orders them.
 */
export function generateDeployRepository(dir: string, rows: number): void {
  const customers = Math.max(1, Math.round(rows * 0.1));
  const orders = Math.max(1, Math.round(rows * 0.6));
  const events = Math.max(0, rows - customers - orders);
  const files: Record<string, string> = {
    '0_schema/010_tables.sql': `CREATE TABLE customer (id bigint NOT NULL, email text NOT NULL, name text NOT NULL, country char(2) NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE orders (id bigint NOT NULL, customer_id bigint NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL, note text);
CREATE TABLE event (id bigint NOT NULL, order_id bigint NOT NULL, kind text NOT NULL, payload jsonb NOT NULL, at timestamptz NOT NULL);
`,
    '1_data/010_customers.sql': `INSERT INTO customer
SELECT g, 'user' || g || '@' || (ARRAY['example.com','mail.test','corp.example'])[(1 + g % 3)::int],
       initcap(substr(md5(g::text), 1, (6 + g % 5)::int)) || ' ' || initcap(substr(md5((g * 3)::text), 1, 8)),
       (ARRAY['DE','FR','US','GB','NL','SE','JP'])[(1 + g % 7)::int], timestamptz '2020-01-01' + g * interval '37 seconds'
  FROM generate_series(1::bigint, ${customers}) AS g;
`,
    '1_data/020_orders.sql': `INSERT INTO orders
SELECT g, 1 + (g * 7919) % ${customers}, ((g * 7907) % 50000) / 100.0,
       (ARRAY['new','paid','shipped','returned'])[(1 + (g * 31) % 4)::int], timestamptz '2021-01-01' + g * interval '11 seconds',
       CASE WHEN g % 10 < 3 THEN 'gift wrap, ' || md5(g::text) END
  FROM generate_series(1::bigint, ${orders}) AS g;
`,
    '1_data/030_events.sql': `INSERT INTO event
SELECT g, 1 + (g * 104729) % ${orders}, (ARRAY['view','cart','pay','ship'])[(1 + g % 4)::int],
       jsonb_build_object('ip', '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.1', 'agent', substr(md5((g * 13)::text), 1, 12), 'ms', (g * 37) % 900),
       timestamptz '2022-01-01' + g * interval '5 seconds'
  FROM generate_series(1::bigint, ${events}) AS g;
`,
    '2_constraints/010_keys.sql': `ALTER TABLE customer ADD PRIMARY KEY (id);
ALTER TABLE orders ADD PRIMARY KEY (id);
ALTER TABLE event ADD PRIMARY KEY (id);
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customer (id);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX event_order_idx ON event (order_id);
`,
  };
  for (const [relative, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
    writeFileSync(path.join(dir, relative), text);
  }
}
