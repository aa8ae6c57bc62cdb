import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { managedEnv, serverDir } from './support.js';

interface Step {
  command: string;
  /** What the README shows the command printing. */
  shown: string[];
}

/** The walkthrough's set-up lines (its `sh` block) and every `$ ` command of its console blocks, in order. */
function walkthrough(): { setup: string[]; steps: Step[] } {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('<!-- section: walkthrough -->'), readme.indexOf('<!-- section: your-own-server -->'));
  const setup = (/```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '').trim().split('\n');
  const steps: Step[] = [];
  for (const block of section.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? '').replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), shown: [] });
      else steps.at(-1)?.shown.push(line);
    }
  }
  return { setup, steps };
}

/**
 * What differs from run to run: times, dates, ports, random suffixes, sizes, the server's
 * folder, pids, and the side databases the background makes and drops while the user types.
 */
function stable(lines: string[], serverFolder: RegExp): string[] {
  return lines
    // Side databases (spares, pool copies, a replaced template's __dbfast_old_) come and go with the background.
    .filter((line) => !/__dbfast_[a-z]+_[0-9a-f]{8}\b/.test(line))
    .map((line) =>
      line
        .replace(serverFolder, '<server>')
        .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
        .replace(/\b\d+(\.\d+)? (ms|s)\b/g, '<time>')
        .replace(/\b\d+(\.\d+)? MiB\b/g, '<size>')
        .replace(/__[0-9a-f]{12}\b/g, '__<hash>')
        .replace(/(port |localhost:)\d+/g, '$1<port>')
        .replace(/ +/g, ' '),
    );
}

describe('the README walkthrough, as written, on a machine with no server configured and an empty HOME', () => {
  it('every command exits as shown, and the lines that do not depend on timing are what it prints', { timeout: 300_000 }, () => {
    const { setup, steps } = walkthrough();
    expect(setup).toEqual(['alias dbfast="node $PWD/bin/dbfast.js"', 'cp -r fixtures/app /tmp/store && cd /tmp/store']);
    expect(steps.length).toBeGreaterThan(15);
    const root = serverDir();
    const home = tempDir('dbfast-home-');
    // The README's /tmp/store, made a fresh folder of the same name (its name is the template's).
    const store = path.join(tempDir('dbfast-walk-'), 'store');
    mkdirSync(path.dirname(store), { recursive: true });
    const env = { ...process.env, ...managedEnv(root), HOME: home, NO_COLOR: '1', DBFAST_CONFIG: undefined };
    // Each command in its own bash: the alias defined in the repository, as the README does, then the command where it runs.
    const bash = (script: string, cwd: string): { status: number | null; output: string } => {
      const run = spawnSync('bash', ['-c', `exec 2>&1\nshopt -s expand_aliases\n${setup[0]}\ncd "${cwd}"\n${script}`], { cwd: PROJECT_ROOT, env, encoding: 'utf8' });
      // One stream, in the order a terminal shows it.
      return { status: run.status, output: run.stdout };
    };
    const copied = bash(setup[1]?.replaceAll('/tmp/store', store) ?? '', PROJECT_ROOT);
    expect(copied.status, copied.output).toBe(0);

    const folder = new RegExp(`${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|/tmp/me/\\.local/share/dbfast/server`, 'g');
    let previous: number | null = null;
    for (const { command, shown } of steps) {
      if (command === 'echo $?') {
        expect(shown, 'the exit status the README shows').toEqual([String(previous)]);
        continue;
      }
      const run = bash(command.replaceAll('/tmp/store', store), store);
      previous = run.status;
      const expectedStatus = /^dbfast status --check/.test(command) ? 3 : /^dbfast drop postgres$/.test(command) ? 2 : 0;
      expect(run.status, `${command}\n${run.output}`).toBe(expectedStatus);
      const printed = run.output === '' ? [] : run.output.replaceAll(store, '/tmp/store').replace(/\n$/, '').split('\n');
      if (/^dbfast (list|build|seed|server status)/.test(command)) {
        // What these print depends on what the background has made or dropped by then (layer
        // templates, spares, pool copies): the README's first line (the result) is enough.
        expect(stable(printed, folder), command).toContain(stable(shown, folder)[0]);
      } else {
        expect(stable(printed, folder), command).toEqual(stable(shown, folder));
      }
    }
  });
});
