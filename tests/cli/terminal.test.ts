import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { makeProject, SCHEMA_SQL, type TestProject } from '../support/project.js';
import { plainText, runInTerminal, screen, SGR } from '../support/terminal.js';

/*
 * The CLI as a person at a terminal sees it: run in a real pseudo-terminal (util-linux
 * `script`), so stdout, stderr and stdin are all a TTY.
 */

/** ~12 MiB of COPY data in one file: long enough for progress events inside the COPY. */
function bigCopy(rows: number): string {
  const lines: string[] = ['CREATE TABLE big (id int, note text);', 'COPY big (id, note) FROM stdin;'];
  const note = 'x'.repeat(60);
  for (let i = 1; i <= rows; i++) lines.push(`${i}\t${note}`);
  lines.push('\\.', '');
  return lines.join('\n');
}

function project(): TestProject {
  return makeProject({ files: { '0_schema/010_item.sql': SCHEMA_SQL, '1_data/020_big.sql': bigCopy(200_000) } });
}

describe('colour on a terminal', () => {
  it('colours table headers, status words and errors on a terminal, and nothing with NO_COLOR, --no-color or FORCE_COLOR=0', async () => {
    const p = makeProject();
    const listed = await runInTerminal(['environments'], { cwd: p.dir });
    expect(listed.exitCode, listed.output).toBe(0);
    expect(listed.output).toContain('\x1b[1mENVIRONMENT\x1b[22m');
    const checked = await runInTerminal(['validate-env'], { cwd: p.dir });
    expect(checked.output).toContain('\x1b[32mok\x1b[39m');
    const failed = await runInTerminal(['deploy', '-j', 'many'], { cwd: p.dir });
    expect(failed.exitCode).toBe(2);
    expect(failed.output).toContain("\x1b[31merror:\x1b[39m option '-j, --jobs <n>' argument 'many' is invalid");

    for (const [args, env] of [
      [['environments'], { NO_COLOR: '1' }],
      [['--no-color', 'environments'], {}],
      [['environments', '--no-color'], { FORCE_COLOR: '1' }],
      [['environments'], { FORCE_COLOR: '0' }],
      [['deploy', '-j', 'many'], { NO_COLOR: '1' }],
    ] as const) {
      const run = await runInTerminal([...args], { cwd: p.dir, env });
      expect(run.output, `${args.join(' ')} ${JSON.stringify(env)}`).not.toMatch(SGR);
    }
  });

  it('colours into a pipe only with FORCE_COLOR (which beats NO_COLOR), and never the --json object', async () => {
    const p = makeProject();
    const piped = await runCli(['environments'], { cwd: p.dir, env: { NO_COLOR: undefined, FORCE_COLOR: undefined } });
    expect(piped.stdout).not.toMatch(SGR);
    const forced = await runCli(['environments'], { cwd: p.dir, env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain('\x1b[1mENVIRONMENT\x1b[22m');
    const json = await runCli(['--json', 'environments'], { cwd: p.dir, env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    expect(json.stdout).not.toMatch(SGR);
    expect(parseJson<{ environments: unknown[] }>(json).environments).toHaveLength(1);
  });
});

describe('progress on a terminal', () => {
  it('shows rows and bytes during a long COPY, erases the progress line before the result, and leaves a clean last line', async () => {
    const p = project();
    const run = await runInTerminal(['build'], { cwd: p.dir, columns: 120 });
    expect(run.exitCode, run.output).toBe(0);
    // Progress was drawn in place, with the COPY's rows and bytes of its total.
    expect(run.output).toContain('\r\x1b[2K');
    expect(plainText(run.output)).toMatch(/sql {2}1 \/ 2 files {2}1_data\/020_big\.sql {2}[\d,]+ rows {2}[\d.]+ MiB \/ [\d.]+ MiB/);
    // What the terminal shows at the end: the result (its line, then a row per layer), nothing of the progress.
    const lines = screen(run.output);
    const result = lines.findIndex((line) => line.startsWith('built '));
    expect(lines[result]).toMatch(new RegExp(`^built ${p.template()} \\(local, 2 files\\) in [\\d.]+ m?s$`));
    expect(lines.slice(result + 1)).toEqual([expect.stringMatching(/^ {2}0_schema +rebuilt +1 file in /), expect.stringMatching(/^ {2}1_data +rebuilt +1 file in [\d.]+ m?s$/)]);
    expect(lines.join('\n')).not.toMatch(/files\s*built|MiB\s*built/);
  });

  it('--json on a terminal: no progress, no colour, one JSON object', async () => {
    const p = project();
    const run = await runInTerminal(['--json', 'build'], { cwd: p.dir });
    expect(run.exitCode, run.output).toBe(0);
    expect(run.output).not.toContain('\x1b[2K');
    expect(run.output).not.toMatch(SGR);
    expect(JSON.parse(plainText(run.output))).toMatchObject({ template: p.template(), rebuilt: true });
  });

  it('an error after progress starts on a clean line', async () => {
    const p = project();
    p.write('2_broken/030_bad.sql', 'SELECT 1;\nSELEC 2;\n');
    const run = await runInTerminal(['build'], { cwd: p.dir, columns: 120 });
    expect(run.exitCode).toBe(1);
    const lines = screen(run.output);
    expect(lines.find((line) => line.includes('error:'))).toMatch(/^error: .*2_broken\/030_bad\.sql:2:1/);
    expect(lines.at(-1)).toMatch(/^hint: /);
  });
});
