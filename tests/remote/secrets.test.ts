import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { cli, project } from '../support/remote.js';

/**
 * Issue 9 item 14: `sslpassword` (the passphrase of the client key) is a secret like the
 * password. Against a server that wants a client certificate and a password over TLS, with the
 * key encrypted: `remote add` never writes it, `remote list` and -v never show it, pg_dump never
 * gets it in argv (a wrapper records pg_dump's real argv), and yet both dbfast's own connection
 * and pg_dump's work.
 */

const IS_ROOT = process.getuid?.() === 0;
const tag = randomBytes(3).toString('hex');
const ROLE = `sk_${tag}`;
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const KEY_SECRET = `Key:Pass/${randomBytes(6).toString('hex')}`;
const DATABASE = `sk_db_${tag}`;

let cluster: Cluster;
let dir: string;
let certs: { ca: string; clientCert: string; clientKey: string };
let binDir: string;
let argvLog: string;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function remoteUrl(sslpassword: string): string {
  const params = [
    'sslmode=verify-full',
    `sslrootcert=${encodeURIComponent(certs.ca)}`,
    `sslcert=${encodeURIComponent(certs.clientCert)}`,
    `sslkey=${encodeURIComponent(certs.clientKey)}`,
    `sslpassword=${sslpassword}`,
  ];
  return `postgresql://${ROLE}@localhost:${cluster.port}/${DATABASE}?${params.join('&')}`;
}

function toml(url: string): string {
  return `[environments.local]\n\n[tools]\npg_bin_dir = "${binDir}"\n\n[remotes.secure]\nurl = "${url}"\nenvironment = "local"\npassword_env = "SK_PW"\n\n[backup]\ndir = "backups"\n`;
}

function expectNoSecret(results: CliResult[]): void {
  for (const result of results) {
    for (const secret of [KEY_SECRET, encodeURIComponent(KEY_SECRET), PASSWORD]) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
  }
}

describe('sslpassword is treated like the password everywhere', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-clientkey-'));
    chmodSync(dir, 0o755);
    openssl(['req', '-new', '-x509', '-days', '2', '-nodes', '-subj', '/CN=dbfast test CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
    openssl(['req', '-new', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
    writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt']);
    // The client key encrypted with the passphrase: without sslpassword neither Node nor libpq can use it.
    openssl(['req', '-new', '-subj', `/CN=${ROLE}`, '-passout', `pass:${KEY_SECRET}`, '-keyout', 'client.key', '-out', 'client.csr']);
    openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.crt']);
    for (const file of ['server.key', 'client.key']) chmodSync(path.join(dir, file), 0o600);
    for (const file of ['ca.crt', 'server.crt', 'client.crt']) chmodSync(path.join(dir, file), 0o644);
    if (IS_ROOT) execFileSync('chown', ['postgres', path.join(dir, 'server.key'), path.join(dir, 'server.crt'), path.join(dir, 'ca.crt')]);
    certs = { ca: path.join(dir, 'ca.crt'), clientCert: path.join(dir, 'client.crt'), clientKey: path.join(dir, 'client.key') };
    cluster = await startCluster({
      name: 'clientcert',
      binDir: inject('pgBinDir'),
      scram: true,
      settings: ['ssl=on', `ssl_cert_file=${path.join(dir, 'server.crt')}`, `ssl_key_file=${path.join(dir, 'server.key')}`, `ssl_ca_file=${certs.ca}`],
      hba: 'local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-full\n',
    });
    await admin(`CREATE ROLE "${ROLE}" LOGIN CREATEDB PASSWORD '${PASSWORD}'`);
    await admin(`CREATE DATABASE "${DATABASE}" OWNER "${ROLE}"`);
    // pg_dump as dbfast runs it, with its argv (one argument a line) and the service file it was given recorded.
    binDir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-argv-bin-'));
    argvLog = path.join(binDir, 'argv.log');
    const real = inject('pgBinDir');
    writeFileSync(path.join(binDir, 'pg_dump'), `#!/bin/sh\nprintf '%s\\n' "$@" >> ${argvLog}\necho "service file: $PGSERVICEFILE" >> ${argvLog}\nexec ${path.join(real, 'pg_dump')} "$@"\n`, { mode: 0o755 });
    for (const tool of ['pg_restore', 'psql']) symlinkSync(path.join(real, tool), path.join(binDir, tool));
  }, 120_000);

  afterAll(() => {
    if (cluster) stopCluster(cluster);
    for (const folder of [dir, binDir]) if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('remote add refuses a literal sslpassword in --url and writes a ${VAR} reference as given', async () => {
    const base = '[environments.local]\n';
    const p = project(base);
    const results: CliResult[] = [];
    for (const json of [false, true]) {
      const refused = await cli(p.dir, [...(json ? ['--json'] : []), 'remote', 'add', '--name', 'secure', '--url', remoteUrl(encodeURIComponent(KEY_SECRET)), '--env', 'local'], { HOME: dir });
      results.push(refused);
      expect(refused.exitCode).toBe(2);
    }
    expect(parseJson<{ error: { code: string; message: string } }>(results[1] as CliResult).error).toMatchObject({ code: 'REMOTE_URL_SECRET', message: expect.stringContaining('sslpassword=***') });
    expect(p.read()).toBe(base);
    const added = await cli(p.dir, ['remote', 'add', '--name', 'secure', '--url', remoteUrl('${SK_KEY}'), '--env', 'local', '--password-env', 'SK_PW'], { HOME: dir, SK_KEY: KEY_SECRET });
    results.push(added);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(p.read()).toContain('sslpassword=${SK_KEY}');
    expect(p.read()).not.toContain(KEY_SECRET);
    expectNoSecret(results);
  });

  it('dbfast connects and pg_dump dumps with the encrypted key; the passphrase is in no argv, output, log or file left behind', async () => {
    // Written into the file by hand (as some will): used, and never shown.
    const p = project(toml(remoteUrl(encodeURIComponent(KEY_SECRET))));
    const env = { HOME: dir, SK_PW: PASSWORD };
    const results: CliResult[] = [];
    const run = async (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => {
      const result = await cli(p.dir, args, { ...env, ...extra });
      results.push(result);
      return result;
    };
    for (const args of [['remote', 'list'], ['--json', 'remote', 'list'], ['-v', 'remote', 'list']]) expect((await run(args)).exitCode).toBe(0);
    expect(parseJson<{ remotes: Array<{ url: string }> }>(results[1] as CliResult).remotes[0]?.url).toContain('sslpassword=***');

    const tested = await run(['--json', '-v', 'remote', 'test', 'secure']);
    expect(tested.exitCode, tested.stdout).toBe(0);
    expect(parseJson<{ ssl: { encrypted: boolean } }>(tested).ssl.encrypted).toBe(true);

    rmSync(argvLog, { force: true });
    const backup = await run(['-v', 'backup', 'create', '--remote', 'secure']);
    expect(backup.exitCode, backup.stderr).toBe(0);
    expect(backup.stderr).toMatch(/running .*pg_dump .*--dbname=postgresql:\/\//);
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toContain(`--dbname=postgresql://${ROLE}@localhost:${cluster.port}/${DATABASE}`);
    expect(argv).not.toContain('sslpassword');
    for (const secret of [KEY_SECRET, encodeURIComponent(KEY_SECRET), PASSWORD]) expect(argv).not.toContain(secret);
    // The passphrase reached pg_dump in a private service file, gone once dbfast exited.
    const serviceFile = /service file: (\S+)/.exec(argv)?.[1];
    expect(serviceFile).toMatch(/dbfast-secret-/);
    expect(existsSync(serviceFile as string)).toBe(false);

    // A wrong passphrase: a connection error that names sslpassword, without echoing either value.
    const wrong = project(toml(remoteUrl('not-the-passphrase')));
    const refused = await cli(wrong.dir, ['--json', 'remote', 'test', 'secure'], env);
    results.push(refused);
    expect(refused.exitCode).toBe(3);
    const connect = parseJson<{ checks: Array<{ name: string; ok: boolean; hint?: string }> }>(refused).checks.find((check) => check.name === 'connect');
    expect(connect).toMatchObject({ ok: false, hint: expect.stringMatching(/sslpassword \(from remotes\.secure\.url\)/) });
    expect(refused.stdout).not.toContain('not-the-passphrase');
    expectNoSecret(results);
  });
});
