import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { cli, project } from '../support/remote.js';

interface Entry {
  key: string;
  value: unknown;
  source: { kind: 'file'; key: string; file: string; variables: string[] } | { kind: 'env'; variable: string } | { kind: 'default' } | { kind: 'rule'; rule: string };
}

const TOML = `# where each value comes from
[database]
url = "postgresql://app@db.internal:5432/dev"
template_name = "shop"

[repository]
path = "sql"

[environments.local]
[environments.production]
exclude_directories = ["9_seed"]

[backup]
keep = 3

[remotes.staging]
url = "\${STAGING_URL}"
environment = "local"
no_owner = true

[remotes.production]
url = "postgresql://deploy@prod.internal/shop"
password_env = "PROD_PW"
environment = "production"
backup_before_deploy = false
`;

function byKey(entries: Entry[]): Map<string, Entry> {
  return new Map(entries.map((entry) => [entry.key, entry]));
}

describe('config show: each effective value and where it came from', () => {
  it('file keys, environment variables and defaults; passwords masked; interpolated variables named', async () => {
    const p = project(TOML);
    const env = { STAGING_URL: 'postgresql://ci:hunter2@staging.internal/shop', DBFAST_TEMPLATE_NAME: undefined, DBFAST_DATABASE_URL: undefined, DBFAST_REPOSITORY_PATH: undefined };
    const result = await cli(p.dir, ['--json', 'config', 'show'], env);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('hunter2');
    const shown = parseJson<{ configPath: string; entries: Entry[] }>(result);
    const entries = byKey(shown.entries);
    const file = (key: string, variables: string[] = []): Entry['source'] => ({ kind: 'file', key, file: p.file, variables });

    expect(entries.get('database.url')).toEqual({ key: 'database.url', value: 'postgresql://app@db.internal:5432/dev', source: file('database.url') });
    expect(entries.get('database.template_name')).toMatchObject({ value: 'shop', source: file('database.template_name') });
    expect(entries.get('repository.path')).toMatchObject({ value: path.join(p.dir, 'sql'), source: file('repository.path') });
    expect(entries.get('repository.runner')).toMatchObject({ value: 'inprocess', source: { kind: 'default' } });
    expect(entries.get('backup.keep_last')).toMatchObject({ value: 3, source: file('backup.keep') });
    expect(entries.get('backup.compression')).toMatchObject({ value: 'zstd', source: { kind: 'default' } });
    expect(entries.get('environments.production.exclude_directories')).toMatchObject({ value: ['9_seed'], source: file('environments.production.exclude_directories') });
    expect(entries.get('remotes.staging.url')).toMatchObject({ value: 'postgresql://ci:***@staging.internal/shop', source: file('remotes.staging.url', ['STAGING_URL']) });
    expect(entries.get('remotes.staging.no_owner')).toMatchObject({ value: true, source: file('remotes.staging.no_owner') });
    expect(entries.get('remotes.staging.keep_previous')).toMatchObject({ value: true, source: { kind: 'default' } });
    expect(entries.get('remotes.production.password_env')).toMatchObject({ value: 'PROD_PW', source: file('remotes.production.password_env') });
    // Written as false, but production always backs up: the rule is the source.
    expect(entries.get('remotes.production.backup_before_deploy')).toMatchObject({ value: true, source: { kind: 'rule', rule: 'production remotes' } });

    const text = await cli(p.dir, ['config', 'show'], env);
    expect(text.stdout).not.toContain('hunter2');
    expect(text.stdout).toMatch(/remotes\.staging\.url\s+postgresql:\/\/ci:\*\*\*@staging\.internal\/shop\s+remotes\.staging\.url in dbfast\.toml \(via \$STAGING_URL\)/);
    expect(text.stdout).toMatch(/backup\.compression\s+zstd\s+default\n/);
  });

  it('an environment variable over the file, and a remote in [[remotes]] form', async () => {
    const p = project(`[database]\ntemplate_name = "fromfile"\n\n[environments.local]\n\n[[remotes]]\nname = "qa"\nurl = "postgresql://qa@qa.internal/shop"\nenvironment = "local"\n`);
    const env = { DBFAST_TEMPLATE_NAME: 'fromenv', DBFAST_DATABASE_URL: 'postgresql://me:topsecret@127.0.0.1:5999/dev', DBFAST_REPOSITORY_PATH: undefined };
    const result = await cli(p.dir, ['--json', 'config', 'show'], env);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('topsecret');
    const entries = byKey(parseJson<{ entries: Entry[] }>(result).entries);
    expect(entries.get('database.template_name')).toMatchObject({ value: 'fromenv', source: { kind: 'env', variable: 'DBFAST_TEMPLATE_NAME' } });
    expect(entries.get('database.server')).toMatchObject({ value: 'external', source: { kind: 'env', variable: 'DBFAST_DATABASE_URL' } });
    expect(entries.get('database.url')).toMatchObject({ value: 'postgresql://me:***@127.0.0.1:5999/dev', source: { kind: 'env', variable: 'DBFAST_DATABASE_URL' } });
    expect(entries.get('repository.path')).toMatchObject({ value: p.dir, source: { kind: 'default' } });
    expect(entries.get('remotes.qa.url')).toMatchObject({ value: 'postgresql://qa@qa.internal/shop', source: { kind: 'file', key: 'remotes[0].url' } });
  });
});
