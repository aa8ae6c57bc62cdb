import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll } from 'vitest';
import { query, remote } from './db.js';

/**
 * A hook script that records, per call, its label and what dbfast gave it, into hooks.log in
 * the folder it runs in; the password goes to its own file (pw-<label>) so the test can compare
 * it without it ever being printed.
 */
export const RECORD_SCRIPT = `#!/bin/sh
{
  printf 'label=%s\\n' "$1"
  printf 'remote=%s\\n' "$DBFAST_REMOTE"
  printf 'environment=%s\\n' "$DBFAST_ENVIRONMENT"
  printf 'backup=%s\\n' "$DBFAST_BACKUP_ID"
  printf 'deploy=%s\\n' "$DBFAST_DEPLOY_ID"
  printf 'url=%s\\n' "$DATABASE_URL"
  printf 'cwd=%s\\n' "$(pwd -P)"
  printf '%s\\n' '--'
} >> hooks.log
printf '%s' "$PGPASSWORD" > "pw-$1"
echo "hello from $1"
`;

export function writeRecordScript(dir: string): void {
  writeFileSync(path.join(dir, 'record.sh'), RECORD_SCRIPT);
}

export type HookCall = Record<'label' | 'remote' | 'environment' | 'backup' | 'deploy' | 'url' | 'cwd', string>;

export function hookCalls(dir: string): HookCall[] {
  const file = path.join(dir, 'hooks.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('--\n')
    .filter((block) => block.trim())
    .map((block) => Object.fromEntries(block.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])) as HookCall);
}

export async function databaseExists(name: string): Promise<boolean> {
  return (await query(remote.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
}

const servers: Server[] = [];

/** A tiny HTTP server on 127.0.0.1 (a free port) answering every request with `status`; counts requests. */
export async function healthServer(status: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.statusCode = status;
    res.end(status === 200 ? 'ok' : 'not ok');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/health`, requests: () => requests };
}

afterAll(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});
