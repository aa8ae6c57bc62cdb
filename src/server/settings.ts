/**
 * The managed server's settings, written to `dbfast.conf` in the data directory before every
 * start (postgresql.conf includes it at its end; `ALTER SYSTEM` still wins, being read later).
 *
 * It is a disposable development server: templates are rebuilt from SQL files, clones from
 * templates. So by default it trades crash safety for speed, as IntegreSQL recommends for test
 * servers: no fsync, no waiting for WAL flushes, no full-page images. A crash of PostgreSQL
 * itself loses nothing; a crash of the operating system (power loss) may corrupt what was being
 * written, which dbfast rebuilds (see README, "The managed server"). `durable` keeps
 * PostgreSQL's defaults for these. The numbers behind the choice are in the README.
 */
export const FAST_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
};

/** The file, in the data directory, that postgresql.conf includes. */
export const SETTINGS_FILE = 'dbfast.conf';
export const INCLUDE_LINE = `include = '${SETTINGS_FILE}'`;

/** What a server is started with; `extra` is for the test harness (ssl, auth) and the bench. */
export interface SettingsInput {
  port: number;
  socketDir: string;
  durable: boolean;
  extra?: Readonly<Record<string, string>> | undefined;
}

function literal(value: string): string {
  // postgresql.conf: numbers and bare words as they are, anything else quoted with '' doubled.
  return /^(-?\d+(\.\d+)?[a-zA-Z]*|on|off|true|false)$/.test(value) ? value : `'${value.replaceAll("'", "''")}'`;
}

/** Every setting a start writes: where it listens, and the durability profile. */
export function settingsFor(input: SettingsInput): Record<string, string> {
  return {
    port: String(input.port),
    // TCP on the loopback only; the unix socket in a folder only the server's user (and root) may enter.
    listen_addresses: '127.0.0.1',
    unix_socket_directories: input.socketDir,
    unix_socket_permissions: '0700',
    password_encryption: 'scram-sha-256',
    ...(input.durable ? {} : FAST_SETTINGS),
    ...input.extra,
  };
}

/** dbfast.conf's text for these settings. */
export function settingsFileText(settings: Readonly<Record<string, string>>): string {
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${literal(value)}`);
  return `# Written by dbfast before every start of this server; your own settings go in\n# postgresql.conf above the include, or through ALTER SYSTEM (which wins over both).\n${lines.join('\n')}\n`;
}
