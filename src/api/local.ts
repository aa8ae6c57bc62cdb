/*
 * The library's functions on the local server: templates and clones (build, seed, watch,
 * status, list, drop), the detached clean-up worker, and the managed local PostgreSQL. Each
 * loads its implementation lazily (a dynamic import), so importing the public surface
 * (src/index.ts) stays cheap; `dbfast seed` loads only what seeding needs.
 */
import { ON_LOCAL_SERVER, withModule, type ConfigSource, type With } from '../config/source.js';
import type { Logger } from '../logger.js';

// ---- Templates and clones on the local server ----

/** Builds the environment's template when stale (or with `force`). */
export async function build(options: With<import('../local/build.js').BuildOptions> = {}): Promise<import('../local/build.js').BuildResult> {
  return withModule(options, () => import('../local/build.js'), (module, config) => module.buildTemplate({ ...options, config }), ON_LOCAL_SERVER);
}

/** Creates database `output` from the environment's template, building it first when stale. */
export async function seed(options: With<import('../local/seed.js').SeedOptions>): Promise<import('../local/seed.js').SeedResult> {
  return withModule(options, () => import('../local/seed.js'), (module, config) => module.seed({ ...options, config }), ON_LOCAL_SERVER);
}

/**
 * Watches the environment's files and keeps its template and the `outputs` databases in step
 * (`dbfast watch`). Resolves once the initial cycle is done and events are being taken; every
 * cycle then calls `onEvent` once. `close()` stops it.
 *
 * @example
 * const session = await watch({ outputs: ['app_dev'], onEvent: (event) => console.log(event.type) });
 * process.once('SIGINT', () => void session.close());
 */
export async function watch(options: With<import('../local/watch.js').WatchOptions>): Promise<import('../local/watch.js').WatchSession> {
  return withModule(options, () => import('../local/watch.js'), (module, config) => module.watchEnvironment({ ...options, config }), ON_LOCAL_SERVER);
}

/** Each environment's template: missing, fresh or stale, with the files that changed. */
export async function status(options: With<import('../local/status.js').StatusOptions> = {}): Promise<import('../local/status.js').StatusResult> {
  return withModule(options, () => import('../local/status.js'), (module, config) => module.status({ ...options, config }), ON_LOCAL_SERVER);
}

/** The databases dbfast made on the local server (templates, clones, leftovers). */
export async function list(options: ConfigSource = {}): Promise<import('../local/list.js').ListResult> {
  return withModule(options, () => import('../local/list.js'), (module, config) => module.list({ config }), ON_LOCAL_SERVER);
}

/** Drops databases dbfast made; refuses (dropping nothing) when a name is not one of them. */
export async function drop(options: With<import('../local/drop.js').DropOptions>): Promise<import('../local/drop.js').DropResult> {
  return withModule(options, () => import('../local/drop.js'), (module, config) => module.drop({ ...options, config }), ON_LOCAL_SERVER);
}

/**
 * The detached clean-up worker (`dbfast __background`, which dbfast starts itself after a command
 * has answered): drops replaced templates and leftovers, makes layer templates. Reads its job
 * from the environment dbfast gave it; returns the exit code.
 */
export async function runBackgroundWorker(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return (await import('../local/background.js')).backgroundMain(env);
}

// ---- The managed local server ----

/** Where the managed server lives is read from `env` (DBFAST_SERVER_DIR, XDG_DATA_HOME, HOME; default process.env). */
export interface ServerCommandOptions {
  env?: NodeJS.ProcessEnv | undefined;
  logger?: Logger | undefined;
}

/**
 * Starts dbfast's managed local PostgreSQL (initdb on first use), or finds it running. Commands
 * start it by themselves when no local database is configured; this is `dbfast server start`.
 */
export async function startServer(options: import('../server/lifecycle.js').StartServerOptions = {}): Promise<import('../server/lifecycle.js').StartServerResult> {
  return (await import('../server/lifecycle.js')).startManagedServer(options);
}

/** Stops the managed server (fast shutdown: open sessions are ended). */
export async function stopServer(options: ServerCommandOptions = {}): Promise<import('../server/lifecycle.js').StopServerResult> {
  return (await import('../server/lifecycle.js')).stopManagedServer(options);
}

/** Version, binaries, port, socket, data folder, size, uptime and dbfast's databases; never starts anything. */
export async function serverStatus(options: ServerCommandOptions = {}): Promise<import('../server/status.js').ServerStatus> {
  return (await import('../server/status.js')).serverStatus(options);
}

/** Connection URLs of the managed server (started first when it is not running). */
export async function serverUrl(options: ServerCommandOptions & { database?: string } = {}): Promise<import('../server/index.js').ServerUrl> {
  return (await import('../server/index.js')).serverUrl(options);
}

/** The last lines of the managed server's log. */
export async function serverLogs(options: ServerCommandOptions & { lines?: number } = {}): Promise<{ logFile: string | null; lines: string[] }> {
  return (await import('../server/destroy.js')).serverLogs(options);
}

/** Stops the managed server and deletes it with every database on it; refuses without `confirmed`. */
export async function destroyServer(options: ServerCommandOptions & { confirmed: boolean }): Promise<import('../server/destroy.js').DestroyServerResult> {
  return (await import('../server/destroy.js')).destroyManagedServer(options);
}
