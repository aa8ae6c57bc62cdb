import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { cli, project, remoteDatabase, scramRole } from '../support/remote.js';

interface Report {
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; detail: string; hint?: string }>;
  ssl: { mode: string; source: string; encrypted: boolean | null; protocol: string | null };
}

const IS_ROOT = process.getuid?.() === 0;

/** libpq's sslmode semantics for dbfast's own connections, on a server with TLS and on one without. */
describe('sslmode in remote URLs', () => {
  let cluster: Cluster;
  let certDir: string;
  let cert: string;
  let home: string;

  beforeAll(async () => {
    certDir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-tls-'));
    chmodSync(certDir, 0o755);
    cert = path.join(certDir, 'server.crt');
    const key = path.join(certDir, 'server.key');
    execFileSync('openssl', [
      'req', '-new', '-x509', '-days', '2', '-nodes', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    chmodSync(key, 0o600);
    if (IS_ROOT) execFileSync('chown', ['postgres', key, cert]);
    cluster = await startCluster({
      name: 'tls',
      binDir: inject('pgBinDir'),
      scram: false,
      settings: ['ssl=on', `ssl_cert_file=${cert}`, `ssl_key_file=${key}`],
    });
    home = mkdtempSync(path.join(os.tmpdir(), 'dbfast-home-'));
  });

  afterAll(() => {
    if (cluster) stopCluster(cluster);
    rmSync(certDir, { recursive: true, force: true });
  });

  async function testWith(query: string, env: Record<string, string | undefined> = {}): Promise<{ exitCode: number | null; report: Report }> {
    // An application database (not created yet), not "postgres": dbfast refuses the maintenance database as a target.
    const url = `postgresql://postgres@127.0.0.1:${cluster.port}/app${query}`;
    const p = project(`[environments.local]\n\n[remotes.tls]\nurl = "${url}"\nenvironment = "local"\n`);
    const result = await cli(p.dir, ['--json', 'remote', 'test', 'tls'], { HOME: home, ...env });
    return { exitCode: result.exitCode, report: parseJson<Report>(result) };
  }

  it('sslmode=require encrypts (without verifying the certificate, as libpq does)', async () => {
    const { exitCode, report } = await testWith('?sslmode=require');
    expect(exitCode).toBe(0);
    expect(report.ssl).toMatchObject({ mode: 'require', source: 'url', encrypted: true });
    expect(report.ssl.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(report.checks.find((c) => c.name === 'ssl')?.detail).toMatch(/sslmode=require \(from the URL\); connection encrypted/);
  });

  it('without sslmode, libpq\'s default (prefer) encrypts when the server offers TLS', async () => {
    const { exitCode, report } = await testWith('');
    expect(exitCode).toBe(0);
    expect(report.ssl).toMatchObject({ mode: 'prefer', source: 'default', encrypted: true });
  });

  it('sslmode=disable, or PGSSLMODE=disable, connects without TLS', async () => {
    const fromUrl = await testWith('?sslmode=disable');
    expect(fromUrl.exitCode).toBe(0);
    expect(fromUrl.report.ssl).toMatchObject({ mode: 'disable', source: 'url', encrypted: false });
    const fromEnv = await testWith('', { PGSSLMODE: 'disable' });
    expect(fromEnv.report.ssl).toMatchObject({ mode: 'disable', source: 'PGSSLMODE', encrypted: false });
  });

  it('sslmode=verify-full refuses an unknown certificate (exit 3) and accepts it with sslrootcert', async () => {
    const refused = await testWith('?sslmode=verify-full');
    expect(refused.exitCode).toBe(3);
    const connect = refused.report.checks.find((c) => c.name === 'connect');
    expect(connect?.ok).toBe(false);
    expect(connect?.hint).toMatch(/sslrootcert=/);
    const trusted = await testWith(`?sslmode=verify-full&sslrootcert=${encodeURIComponent(cert)}`);
    expect(trusted.exitCode).toBe(0);
    expect(trusted.report.ssl).toMatchObject({ mode: 'verify-full', encrypted: true });
    const verifyCa = await testWith(`?sslmode=verify-ca&sslrootcert=${encodeURIComponent(cert)}`);
    expect(verifyCa.report.ssl).toMatchObject({ mode: 'verify-ca', encrypted: true });
  });

  it('an unknown sslmode is a configuration error (exit 2)', async () => {
    const url = `postgresql://postgres@127.0.0.1:${cluster.port}/postgres?sslmode=sometimes`;
    const p = project(`[environments.local]\n\n[remotes.tls]\nurl = "${url}"\nenvironment = "local"\n`);
    const result = await cli(p.dir, ['remote', 'test', 'tls'], { HOME: home });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/remotes\.tls\.url: sslmode=sometimes \(from remotes\.tls\.url\) is not one of disable, allow, prefer, require, verify-ca, verify-full/);
  });

  it('on a server without TLS: require fails with a hint (exit 3), prefer falls back to a plain connection', async () => {
    const role = await scramRole();
    const db = await remoteDatabase(role.name);
    const run = async (query: string) => {
      const p = project(`[environments.local]\n\n[remotes.plain]\nurl = "${role.urlFor(db)}${query}"\nenvironment = "local"\npassword_env = "PLAIN_PW"\n`);
      const result = await cli(p.dir, ['--json', 'remote', 'test', 'plain'], { HOME: home, PLAIN_PW: role.password });
      return { exitCode: result.exitCode, report: parseJson<Report>(result) };
    };
    const required = await run('?sslmode=require');
    expect(required.exitCode).toBe(3);
    const connect = required.report.checks.find((c) => c.name === 'connect');
    expect(connect?.detail).toMatch(/does not support SSL/);
    expect(connect?.hint).toMatch(/does not accept TLS but sslmode=require \(from remotes\.plain\.url\) demands it/);
    const preferred = await run('?sslmode=prefer');
    expect(preferred.exitCode).toBe(0);
    expect(preferred.report.ssl).toMatchObject({ mode: 'prefer', encrypted: false });
  });
});
