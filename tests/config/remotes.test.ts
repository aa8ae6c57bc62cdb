import { describe, expect, it } from 'vitest';
import { findRemote, remoteTarget } from '../../src/config/targets.js';
import { loadConfig } from '../../src/config/load.js';
import { DbfastError } from '../../src/errors.js';
import { tempDir, writeTree } from '../support/files.js';

function loadText(text: string, env: NodeJS.ProcessEnv = {}) {
  return loadConfig({ cwd: writeTree(tempDir(), { 'dbfast.toml': text }), env });
}

function loadError(text: string): DbfastError {
  try {
    loadText(text);
  } catch (error) {
    expect(error).toBeInstanceOf(DbfastError);
    return error as DbfastError;
  }
  throw new Error('expected loadConfig to fail');
}

const ENVIRONMENTS = `
[environments.local]
[environments.test]
include_directories = ["0_schema"]
[environments.production]
include_directories = ["0_schema"]
`;

describe('remotes', () => {
  it('reads the [remotes.NAME] table form with defaults', () => {
    const config = loadText(`${ENVIRONMENTS}
[remotes.staging]
url = "postgresql://app@staging.example.com/shop"
password_env = "STAGING_PW"
environment = "test"
allow_destructive = true
`);
    expect(config.remotes.staging).toMatchObject({
      name: 'staging',
      url: 'postgresql://app@staging.example.com/shop',
      passwordEnv: 'STAGING_PW',
      environment: 'test',
      allowDestructive: true,
      backupBeforeDeploy: true,
      requireConfirmation: false,
      keepPrevious: true,
      validate: [],
    });
  });

  it('reads the [[remotes]] array form with name', () => {
    const config = loadText(`${ENVIRONMENTS}
[[remotes]]
name = "staging"
url = "postgresql://app@staging.example.com/shop"
environment = "test"
backup_before_deploy = false

[[remotes]]
name = "qa"
url = "postgresql://app@qa.example.com/shop"
environment = "local"
`);
    expect(Object.keys(config.remotes)).toEqual(['staging', 'qa']);
    expect(config.remotes.staging).toMatchObject({ environment: 'test', backupBeforeDeploy: false, allowDestructive: false });
    expect(findRemote(config, 'qa').url).toBe('postgresql://app@qa.example.com/shop');
  });

  it('forces require_confirmation (and backups) for a production remote, whatever the file says', () => {
    const config = loadText(`${ENVIRONMENTS}
[remotes.live]
url = "postgresql://app@live.example.com/shop"
environment = "production"
require_confirmation = false
backup_before_deploy = false
`);
    expect(config.remotes.live).toMatchObject({ requireConfirmation: true, backupBeforeDeploy: true });
  });

  it('refuses two [[remotes]] with the same name (exit 2)', () => {
    const error = loadError(`${ENVIRONMENTS}
[[remotes]]
name = "staging"
url = "postgresql://a@x/y"
environment = "test"
[[remotes]]
name = "staging"
url = "postgresql://a@z/y"
environment = "test"
`);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('remotes[1].name: remote "staging" is defined twice');
  });

  it('refuses a [remotes.NAME] table defined twice (a TOML error naming the line)', () => {
    const error = loadError(`${ENVIRONMENTS}
[remotes.staging]
url = "postgresql://a@x/y"
environment = "test"
[remotes.staging]
url = "postgresql://a@z/y"
environment = "test"
`);
    expect(error).toMatchObject({ code: 'CONFIG_SYNTAX', exitCode: 2 });
    expect(error.message).toMatch(/dbfast\.toml:\d+:\d+: invalid TOML/);
  });

  it('names a remote whose environment is not defined', () => {
    const error = loadError(`${ENVIRONMENTS}
[remotes.staging]
url = "postgresql://a@x/y"
environment = "stagin"
`);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('remotes.staging.environment: unknown environment "stagin" (defined: local, test, production)');
  });

  it('names key paths inside both remote forms', () => {
    const table = loadError(`${ENVIRONMENTS}
[remotes.staging]
url = "postgresql://a@x/y"
environment = "test"
allow_destructive = "yes"
name = "staging"
`);
    expect(table.message).toContain('remotes.staging.allow_destructive: expected boolean, received string');
    expect(table.message).toContain('remotes.staging.name: unknown key');
    const array = loadError(`${ENVIRONMENTS}
[[remotes]]
url = "postgresql://a@x/y"
environment = "test"
`);
    expect(array.message).toContain('remotes[0].name: required string is missing');
  });

  it('takes a remote password from password_env, and refuses an unset one with exit 2', () => {
    const config = loadText(`${ENVIRONMENTS}
[remotes.staging]
url = "postgresql://app@staging.example.com/shop"
password_env = "STAGING_PW"
environment = "test"
`);
    const remote = findRemote(config, 'staging');
    expect(remoteTarget(remote, { STAGING_PW: 's3cret' })).toMatchObject({ url: 'postgresql://app@staging.example.com:5432/shop', password: 's3cret' });
    expect(() => remoteTarget(remote, {})).toThrow(expect.objectContaining({ code: 'PASSWORD_ENV_UNSET', exitCode: 2 }));
    expect(() => findRemote(config, 'prod')).toThrow(expect.objectContaining({ code: 'REMOTE_UNKNOWN', exitCode: 2 }));
  });
});
