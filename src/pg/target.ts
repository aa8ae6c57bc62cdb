/**
 * Where a database lives. The password is kept apart from the URL so the URL can go into
 * argv and logs; the password only ever travels in a client config or a child's PGPASSWORD.
 */
export interface DbTarget {
  /** postgres:// URL without a password. */
  url: string;
  password?: string | undefined;
}

const URL_PREFIX = /^postgres(ql)?:\/\//i;

export function isPostgresUrl(value: string): boolean {
  return URL_PREFIX.test(value);
}

/**
 * Splits a password out of a URL (`user:pw@host` or `?password=`) so it can be handled
 * separately. Every other query parameter (sslmode, host, ...) stays in the URL.
 */
export function targetFromUrl(url: string, password?: string): DbTarget {
  const parsed = new URL(url);
  let inline = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (key.toLowerCase() !== 'password') continue;
    inline ??= parsed.searchParams.get(key) ?? undefined;
    parsed.searchParams.delete(key);
  }
  return { url: parsed.toString(), password: password ?? inline };
}

/** The URL with any password replaced by `***`, for printing. Non-URLs pass through with key=value passwords masked. */
export function maskUrl(url: string): string {
  if (!isPostgresUrl(url)) return url.replace(/(password=)[^\s&]*/gi, '$1***');
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    parsed.searchParams.forEach((_v, key) => {
      if (key.toLowerCase() === 'password') parsed.searchParams.set(key, '***');
    });
    return parsed.toString();
  } catch {
    return url.replace(/(:\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** The same server, another database. */
export function withDatabase(target: DbTarget, database: string): DbTarget {
  const parsed = new URL(target.url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return { url: parsed.toString(), password: target.password };
}

export function databaseName(target: DbTarget): string {
  const parsed = new URL(target.url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return name || parsed.searchParams.get('dbname') || parsed.username || process.env.PGDATABASE || process.env.PGUSER || 'postgres';
}

/** Environment for libpq-based children (psql, pg_dump, pg_restore): the password never goes in argv. */
export function childEnv(target: DbTarget): Record<string, string> {
  const env: Record<string, string> = {};
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  return env;
}
