import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/logger.js';
import { findServerBinaries } from '../../src/server/binaries.js';
import { serverRunAs } from '../../src/server/os-user.js';

/**
 * Server binaries for the test and bench clusters, found the way the managed server finds its
 * own (src/server/binaries.ts): the system's (`pg_config --bindir`, the newest
 * /usr/lib/postgresql/N/bin, PATH), else the embedded ones from npm; DBFAST_SERVER_BINARIES
 * picks. Undefined when there are none.
 */
export async function findServerBinDir(): Promise<string | undefined> {
  try {
    const runAs = await serverRunAs(process.env, silentLogger);
    const found = await findServerBinaries({ env: process.env, runAs, root: path.join(os.tmpdir(), 'dbfast-test-binaries'), logger: silentLogger });
    return found.binDir;
  } catch {
    return undefined;
  }
}

