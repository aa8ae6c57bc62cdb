/** Quotes an identifier for PostgreSQL: always, so names like `User` or `my-db` survive. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal, for the few statements (COMMENT ON, CREATE DATABASE options) that take no parameters. */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('literal contains a NUL byte');
  const escaped = value.replaceAll("'", "''");
  return value.includes('\\') ? ` E'${escaped.replaceAll('\\', '\\\\')}'`.trimStart() : `'${escaped}'`;
}
