import path from 'node:path';
import type { ConfigEntry, ConfigShow, DoctorReport } from '../../index.js';
import { plural, table, type Style } from './format.js';

/** Human renderings of `doctor` and `config show`. */

const LABEL = { ok: 'ok', problem: 'FAIL', warning: 'WARN', skipped: 'skip' } as const;

/** `dbfast doctor`: one line per check, then each finding's fix under its code, then the verdict. */
export function renderDoctor(style: Style, report: DoctorReport): string {
  const width = Math.max(0, ...report.checks.map((check) => check.name.length));
  const lines = report.checks.map((check) => {
    const label = LABEL[check.status];
    const word = check.status === 'skipped' ? style.dim(label) : style.status(label);
    return `  ${word}${' '.repeat(4 - label.length)}  ${check.name.padEnd(width)}  ${check.detail}`;
  });
  const problems = report.findings.filter((finding) => finding.severity === 'problem');
  const warnings = report.findings.filter((finding) => finding.severity === 'warning');
  if (report.findings.length > 0) {
    lines.push('', 'to fix:');
    const codeWidth = Math.max(...report.findings.map((finding) => finding.code.length));
    for (const finding of [...problems, ...warnings]) {
      const code = finding.code.padEnd(codeWidth);
      lines.push(`  ${finding.severity === 'problem' ? style.bad(code) : style.warn(code)}  ${finding.fix}`);
    }
  }
  const warned = warnings.length > 0 ? ` (${plural(warnings.length, 'warning')})` : '';
  lines.push('', problems.length > 0 ? style.bad(`${plural(problems.length, 'problem')} found${warned}`) : `${style.good('no problems found')}${warned}`);
  return lines.join('\n');
}

function sourceText(entry: ConfigEntry): string {
  const { source } = entry;
  if (source.kind === 'file') return `${source.key} in ${path.basename(source.file)}${source.variables.length > 0 ? ` (via ${source.variables.map((v) => `$${v}`).join(', ')})` : ''}`;
  if (source.kind === 'env') return `$${source.variable}`;
  if (source.kind === 'rule') return `always, for ${source.rule}`;
  return 'default';
}

function valueText(value: ConfigEntry['value']): string {
  if (value === null) return '(not set)';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** `dbfast config show`: KEY, VALUE, FROM (file key with its `${VAR}`s, `$VARIABLE`, default, or a rule). */
export function renderConfigShow(style: Style, shown: ConfigShow): string {
  const rows = shown.entries.map((entry) => [entry.key, valueText(entry.value), sourceText(entry)]);
  return [`effective configuration of ${shown.configPath}:`, table(style, ['KEY', 'VALUE', 'FROM'], rows)].join('\n');
}
