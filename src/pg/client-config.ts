/**
 * The URL's connection settings as node-postgres config fields. dbfast does not hand
 * node-postgres the URL itself: its parser sets `password: ''` for a URL without one, which
 * overrides the password given beside it, and it applies its own sslmode rules (see ssl.ts).
 * Fields left undefined fall back to PGHOST/PGPORT/PGUSER/PGDATABASE inside node-postgres, like libpq.
 */
export interface UrlClientConfig {
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  options?: string;
  application_name?: string;
}

function decoded(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  return decodeURIComponent(value);
}

export function clientConfigFromUrl(url: string): UrlClientConfig {
  const parsed = new URL(url);
  const param = (name: string): string | undefined => parsed.searchParams.get(name) ?? undefined;
  const config: UrlClientConfig = {};
  const host = param('host') ?? decoded(parsed.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (host) config.host = host;
  const port = param('port') ?? parsed.port;
  if (port) config.port = Number(port);
  const user = param('user') ?? decoded(parsed.username);
  if (user) config.user = user;
  const database = param('dbname') ?? decoded(parsed.pathname.replace(/^\//, ''));
  if (database) config.database = database;
  const options = param('options');
  if (options) config.options = options;
  const applicationName = param('application_name');
  if (applicationName) config.application_name = applicationName;
  return config;
}
