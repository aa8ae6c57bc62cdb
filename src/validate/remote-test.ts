import { remoteTarget } from '../config/targets.js';
import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import type { ToolInfo } from '../pg/tools.js';
import { sslPlan } from '../pg/ssl.js';
import { databaseName, maskUrl, type DbTarget } from '../pg/target.js';
import type { ConnectivityOptions } from './connectivity.js';
import { checkRemote } from './remote-checks.js';
import { readTemplateNeeds, type TemplateNeeds } from './template.js';
import { allNeededOk, failed, passed, type CheckResult, type ServerFacts } from './types.js';

export interface ToolSummary {
  path: string;
  version: string;
}

/** `dbfast remote test`: every field null when it could not be found out (no connection). */
export interface RemoteTestReport {
  remote: string;
  /** Password masked. */
  url: string;
  database: string;
  /** No check failed with severity error. */
  ok: boolean;
  checks: CheckResult[];
  serverVersion: string | null;
  serverVersionNum: number | null;
  currentUser: string | null;
  superuser: boolean | null;
  canCreateDatabases: boolean | null;
  databaseExists: boolean | null;
  databaseOwner: string | null;
  ownsDatabase: boolean | null;
  tools: { pgDump: ToolSummary | null; pgRestore: ToolSummary | null };
  latencyMs: number | null;
  ssl: { mode: string; source: string; encrypted: boolean | null; protocol: string | null };
}

export interface TestRemoteOptions extends ConnectivityOptions {
  env?: NodeJS.ProcessEnv;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?)$/i;

/** Informational unless a non-local server is reached without TLS. */
export function checkSsl(target: DbTarget, facts: ServerFacts): CheckResult {
  const { ssl } = facts;
  const how = `sslmode=${ssl.mode} (${ssl.source === 'default' ? "libpq's default" : ssl.source === 'url' ? 'from the URL' : 'from PGSSLMODE'})`;
  if (ssl.unixSocket) return passed('ssl', `${how}; Unix socket, no TLS needed`);
  if (ssl.encrypted) return passed('ssl', `${how}; connection encrypted (${ssl.protocol ?? 'TLS'})`);
  const host = new URL(target.url).hostname;
  if (LOOPBACK.test(host)) return passed('ssl', `${how}; connection not encrypted (local server)`);
  return failed('ssl', `${how}; the connection to ${host} is not encrypted`, 'Add ?sslmode=require (or verify-full) to the URL once the server has TLS.', 'warning');
}

function summary(info: ToolInfo | null): ToolSummary | null {
  return info ? { path: info.path, version: info.version } : null;
}

/**
 * Really connects and reports what a deploy or restore to this remote would need: the same
 * checks a deploy runs (`checkRemote`, with the needs of the remote's template as last built),
 * plus TLS and latency.
 */
export async function testRemote(config: DbfastConfig, remote: RemoteConfig, options: TestRemoteOptions = {}): Promise<RemoteTestReport> {
  const target = remoteTarget(remote, options.env);
  const plan = sslPlan(target);
  // A deploy restores the template only where it may replace the database; elsewhere it applies migrations.
  const template: TemplateNeeds = remote.allowDestructive
    ? await readTemplateNeeds(config, remote.environment)
    : { template: '', unavailable: 'deploys to this remote apply migrations (allow_destructive = false): no template is restored, so its roles and extensions are not needed' };
  const { checks, facts, tools } = await checkRemote({ remote, target, pgBinDir: config.tools.pgBinDir, template, pings: options.pings ?? 5, connectTimeoutMs: options.connectTimeoutMs });
  if (facts) {
    checks.push(checkSsl(target, facts));
    checks.push(passed('latency', `${facts.latencyMs.toFixed(2)} ms round trip (median of ${facts.latencySamples} SELECT 1)`));
  }
  return {
    remote: remote.name,
    url: maskUrl(target.url),
    database: databaseName(target),
    ok: allNeededOk(checks),
    checks,
    serverVersion: facts?.serverVersion ?? null,
    serverVersionNum: facts?.serverVersionNum ?? null,
    currentUser: facts?.currentUser ?? null,
    superuser: facts?.superuser ?? null,
    canCreateDatabases: facts?.canCreateDatabases ?? null,
    databaseExists: facts?.databaseExists ?? null,
    databaseOwner: facts?.databaseOwner ?? null,
    ownsDatabase: facts?.ownsDatabase ?? null,
    tools: { pgDump: summary(tools.pgDump), pgRestore: summary(tools.pgRestore) },
    latencyMs: facts?.latencyMs ?? null,
    ssl: { mode: plan.mode, source: plan.source, encrypted: facts ? facts.ssl.encrypted : null, protocol: facts?.ssl.protocol ?? null },
  };
}
