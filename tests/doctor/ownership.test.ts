import { copyFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { makeProject, type TestProject } from '../support/project.js';

/*
 * Two projects on one server with the same template_name: doctor's summary of the local
 * databases counts what each project's markers say is its own, never what the names suggest.
 */

const env = { DBFAST_CONFIG: undefined };

interface Report {
  checks: Array<{ name: string; status: string; detail: string }>;
  findings: Array<{ code: string; check: string; message: string }>;
}

async function localDatabases(project: TestProject): Promise<{ detail: string | undefined; findings: Report['findings'] }> {
  const report = parseJson<Report>(await runCli(['--json', 'doctor'], { cwd: project.dir, env }));
  return {
    detail: report.checks.find((check) => check.name === 'local databases')?.detail,
    findings: report.findings.filter((finding) => finding.check === 'local databases'),
  };
}

describe('doctor counts databases by the project in their markers', () => {
  it("another project's template and clone under the same template_name are not counted as this project's", async () => {
    const a = makeProject();
    const b = makeProject();
    // B says the same template_name as A (its own folder, so its own project id).
    copyFileSync(a.configPath, b.configPath);
    const clone = `${a.templateName}_dev`;
    const seeded = await runCli(['seed', '--output', clone], { cwd: a.dir, env });
    expect(seeded.exitCode, seeded.stderr).toBe(0);
    expect((await localDatabases(a)).detail).toBe('1 template and 1 clone of this project; no leftovers, no stray clones');
    const ofB = await localDatabases(b);
    expect(ofB.findings).toEqual([]);
    expect(ofB.detail).toBe('0 templates and 0 clones of this project; no leftovers, no stray clones');
    // A drops its template: its clone is A's stray clone, never B's.
    expect((await runCli(['drop', a.template()], { cwd: a.dir, env })).exitCode).toBe(0);
    expect((await localDatabases(a)).findings.map((finding) => finding.code)).toEqual(['STRAY_CLONE']);
    expect((await localDatabases(b)).findings).toEqual([]);
  });
});
