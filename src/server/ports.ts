import net from 'node:net';
import { DbfastError } from '../errors.js';
import { preferredPort } from './paths.js';

/**
 * Which TCP port the managed server listens on. A probe can only say that a port was free a
 * moment ago: another program (a parallel CI job, another user's managed server) may bind it
 * before PostgreSQL does. So a port dbfast chose itself is moved from when PostgreSQL's bind
 * fails (lifecycle.ts); a port the user named (`--port`) is refused instead.
 */

/** How many ports a start tries when each one it chose is taken before PostgreSQL binds it. */
export const PORT_ATTEMPTS = 5;

/** Whether nothing listens on `port` on 127.0.0.1 (where the server listens). */
export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** The first free port from `first` on (200 tried), else one the OS picks. */
export async function freePortFrom(first: number): Promise<number> {
  for (let port = first; port < Math.min(first + 200, 65536); port++) if (await portFree(port)) return port;
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The port a server without a recorded one tries first: `DBFAST_SERVER_PORT` (several servers
 * on one machine, e.g. parallel CI jobs, each given its own), else 25400 + the major.
 */
export function firstPort(env: NodeJS.ProcessEnv, major: number): number {
  const given = env.DBFAST_SERVER_PORT;
  if (given === undefined || given === '') return preferredPort(major);
  const port = Number(given);
  if (!/^\d+$/.test(given) || port < 1 || port > 65535) {
    throw new DbfastError('USAGE', `DBFAST_SERVER_PORT must be a TCP port (1-65535), not "${given}"`, {
      hint: 'Set DBFAST_SERVER_PORT to a port number, or unset it to let dbfast choose (25400 + the PostgreSQL major, else the next free one).',
    });
  }
  return port;
}

/** A port the user named that is taken: refused, never moved from. */
export function portTakenError(port: number): DbfastError {
  return new DbfastError('SERVER_PORT_TAKEN', `port ${port} on 127.0.0.1 is taken by another program`, {
    hint: `Choose another port (dbfast server start --port N), or stop what listens on ${port}.`,
    details: { port } });
}

/** The port to start on: the wanted one (refused when taken), the recorded one when free, else the next free one. */
export async function choosePort(wanted: number | undefined, recorded: number | undefined, first: number): Promise<{ port: number; movedFrom?: number }> {
  if (wanted !== undefined) {
    if (!(await portFree(wanted))) throw portTakenError(wanted);
    return { port: wanted };
  }
  if (recorded !== undefined && (await portFree(recorded))) return { port: recorded };
  const port = await freePortFrom(recorded === undefined ? first : recorded + 1);
  return recorded === undefined ? { port } : { port, movedFrom: recorded };
}
