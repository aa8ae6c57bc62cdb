import type { Logger } from '../logger.js';
import { startManagedServer } from './lifecycle.js';
import { socketUrl, tcpUrl } from './record.js';

/** The managed local PostgreSQL: what the library index and the test harness use. */
export { startManagedServer, stopManagedServer, type StartServerOptions, type StartServerResult, type StopServerResult } from './lifecycle.js';
export { destroyManagedServer, serverLogs, type DestroyServerResult } from './destroy.js';
export { serverStatus, type ServerStatus, type ServerDatabase, type PgDumpCheck } from './status.js';
export { localTarget, managedServerTarget } from './managed.js';
export { usesManagedServer } from '../config/resolve.js';
export { EMBEDDED_MAJOR, findServerBinaries, type ServerBinaries, type BinariesOrigin } from './binaries.js';
export { initCluster, startPostgres, stopPostgres, type ClusterSpec } from './postgres.js';
export { serverRunAs, type RunAs } from './os-user.js';
export { settingsFor, FAST_SETTINGS } from './settings.js';
export type { ManagedServer } from './record.js';

export interface ServerUrl {
  /** Over the unix socket, no password needed: psql and application code on this machine. */
  url: string;
  /** Over TCP on 127.0.0.1; the password is in `pgpassFile` (PGPASSFILE=... psql "$tcpUrl"). */
  tcpUrl: string;
  pgpassFile: string;
  database: string;
  port: number;
  socketDir: string;
}

/** `dbfast server url`: where to connect, starting the server first when it is not running. */
export async function serverUrl(options: { env?: NodeJS.ProcessEnv; logger?: Logger; database?: string } = {}): Promise<ServerUrl> {
  const { server } = await startManagedServer({ env: options.env, logger: options.logger });
  const database = options.database ?? 'postgres';
  return { url: socketUrl(server, database), tcpUrl: tcpUrl(server, database), pgpassFile: server.pgpassFile, database, port: server.port, socketDir: server.socketDir };
}
