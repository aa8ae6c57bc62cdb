import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { databasesLike, local } from '../support/db.js';
import { makeProject, type TestProject } from '../support/project.js';

/*
 * The rule for spares (local/spare.ts): one of the template below each environment's last layer
 * and one empty one, named for the current template_name. Spares that a change of template_name
 * left behind are never adopted by a build again; drop --stale drops them and doctor reports them.
 */

const env = { DBFAST_CONFIG: undefined };

async function cli<T>(project: TestProject, args: string[]): Promise<T> {
  const result = await runCli(['--json', ...args], { cwd: project.dir, env });
  expect(result.exitCode, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
  return parseJson<T>(result);
}

interface Finding {
  code: string;
  severity: string;
  message: string;
  fix: string;
}

describe('stale spares', () => {
  it('spares named for an earlier template_name are reported by doctor and dropped by drop --stale; the wanted ones stay', async () => {
    const project = makeProject();
    // A rebuild leaves spares (the background worker runs before the command returns in tests).
    await cli(project, ['build']);
    project.write('1_seed/020_more.sql', "INSERT INTO item VALUES (3, 'mug');\n");
    await cli(project, ['build']);
    const spares = (await databasesLike(local, project.templateName)).filter((name) => name.includes('__dbfast_spare_'));
    const empty = spares.find((name) => name.startsWith(`${project.templateName}__empty__dbfast_spare_`));
    expect(empty).toBeDefined();
    expect(spares).toHaveLength(2);

    // The project renames its templates (a prefix of the old name keeps the test's clean-up finding them).
    const renamed = `${project.templateName}x`;
    writeFileSync(project.configPath, readFileSync(project.configPath, 'utf8').replace(`template_name = "${project.templateName}"`, `template_name = "${renamed}"`));
    // Its first build under the new name runs no background work (a rebuild's garbage collection would take them).
    await cli(project, ['build']);
    const current = (await databasesLike(local, renamed)).filter((name) => name.includes('__dbfast_spare_'));
    expect(current).toEqual([]);
    const stale = (await databasesLike(local, project.templateName)).filter((name) => name.includes('__dbfast_spare_'));
    // Both are stale: the empty one is named for the old template_name, the other copies a layer template no environment uses.
    expect(stale.sort()).toEqual([...spares].sort());

    const doctor = await runCli(['--json', 'doctor'], { cwd: project.dir, env });
    const findings = parseJson<{ findings: Finding[] }>(doctor).findings.filter((finding) => finding.code === 'STALE_SPARE');
    expect(findings.map((finding) => finding.message.match(/^spare "([^"]+)"/)?.[1]).sort()).toEqual([...stale].sort());
    expect(findings.find((finding) => finding.message.includes(empty as string))?.message).toContain('named for another template_name');
    expect(findings[0]).toMatchObject({ severity: 'warning', fix: expect.stringContaining('dbfast drop --stale') });

    const dropped = await cli<{ dropped: Array<{ name: string; kind: string; reason?: string }> }>(project, ['drop', '--stale']);
    expect(dropped.dropped.map((entry) => entry.name).sort()).toEqual([...stale].sort());
    for (const entry of dropped.dropped) expect(entry).toMatchObject({ kind: 'spare', reason: expect.any(String) });
    expect((await databasesLike(local, project.templateName)).filter((name) => name.includes('__dbfast_spare_'))).toEqual([]);
    // A rebuild under the new name makes the spares the rule wants: reported by nobody, dropped by nobody.
    project.write('1_seed/030_more.sql', "INSERT INTO item VALUES (4, 'cup');\n");
    await cli(project, ['build']);
    const wanted = (await databasesLike(local, renamed)).filter((name) => name.includes('__dbfast_spare_'));
    expect(wanted).toHaveLength(2);
    const clean = await runCli(['--json', 'doctor'], { cwd: project.dir, env });
    expect(parseJson<{ findings: Finding[] }>(clean).findings.filter((finding) => finding.code === 'STALE_SPARE')).toEqual([]);
    expect((await cli<{ dropped: unknown[] }>(project, ['drop', '--stale'])).dropped).toEqual([]);
    expect((await databasesLike(local, renamed)).filter((name) => name.includes('__dbfast_spare_')).sort()).toEqual([...wanted].sort());
  });
});
