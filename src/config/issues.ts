import type { z } from 'zod';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  if (typeof value === 'object') return 'table';
  return typeof value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

export function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

/** One line per problem, each naming its key path: `database.template_name: expected string, received integer`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const where = keyPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${where ? `${where}.` : ''}${key}: unknown key`);
      continue;
    }
    const prefix = where || '(top level)';
    if (issue.code === 'invalid_type') {
      const actual = valueAt(input, issue.path);
      lines.push(
        actual === undefined
          ? `${prefix}: required ${issue.expected} is missing`
          : `${prefix}: expected ${issue.expected}, received ${describe(actual)}`,
      );
      continue;
    }
    if (issue.code === 'invalid_value') {
      lines.push(`${prefix}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`);
      continue;
    }
    lines.push(`${prefix}: ${issue.message.replace(/^Invalid input: /, '')}`);
  }
  return lines;
}
