export interface InterpolationProblem {
  path: string;
  variable: string;
}

const PATTERN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` (and `${VAR:-default}`) in every string of a parsed TOML value.
 * `$$` is a literal `$`. Unset variables without a default are collected, not thrown,
 * so every problem in the file is reported at once.
 */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv, problems: InterpolationProblem[], path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const found = env[name as string];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path, variable: name as string });
      return match;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, env, problems, `${path}[${index}]`));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, problems, path ? `${path}.${key}` : key)]),
    );
  }
  return value;
}
