import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DbfastError } from '../../src/errors.js';
import { tempDir, writeTree } from '../support/files.js';

/** Loads a dbfast.toml written into a fresh folder; `env` replaces process.env entirely. */
function loadText(text: string, env: NodeJS.ProcessEnv = {}) {
  const dir = writeTree(tempDir(), { 'dbfast.toml': text });
  return loadConfig({ cwd: dir, env });
}

function loadError(text: string, env: NodeJS.ProcessEnv = {}): DbfastError {
  try {
    loadText(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(DbfastError);
    return error as DbfastError;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig: a valid file', () => {
  it('reads every section and applies defaults', () => {
    const config = loadText(`
[database]
url = "postgresql://app@db.local:5433/appdb"
template_name = "shop"

[repository]
path = "sql"

[environments.local]
include_directories = ["0_schema", "1_seed"]

[environments.production]
include_directories = ["0_schema"]
exclude_files = ["**/*_debug.sql"]

[backup]
keep = 5
compression = "lz4"
`);
    expect(config.database).toMatchObject({ url: 'postgresql://app@db.local:5433/appdb', templateName: 'shop' });
    expect(config.repository.path).toBe(path.join(config.rootDir, 'sql'));
    expect(config.repository.runner).toBe('inprocess');
    expect(Object.keys(config.environments)).toEqual(['local', 'production']);
    expect(config.environments.production).toEqual({ name: 'production', include_directories: ['0_schema'], exclude_files: ['**/*_debug.sql'] });
    expect(config.backup).toEqual({ dir: path.join(config.rootDir, '.dbfast/backups'), keepLast: 5, compression: 'lz4' });
    expect(config.remotes).toEqual({});
  });

  it('gives an empty file one "local" environment that takes everything, and the default template name', () => {
    const config = loadText('');
    expect(config.environments).toEqual({ local: { name: 'local' } });
    expect(config.database.templateName).toBe('dbfast');
    expect(config.repository.path).toBe(config.rootDir);
    expect(config.backup.compression).toBe('zstd');
  });
});

describe('loadConfig: invalid files', () => {
  it('a folder given as the config says to pass the dbfast.toml inside it', () => {
    const dir = tempDir();
    let error: unknown;
    try {
      loadConfig({ configPath: dir, env: {} });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'CONFIG_UNREADABLE', hint: `${dir} is a folder: pass the dbfast.toml inside it (--config ${path.join(dir, 'dbfast.toml')}), or run dbfast from that folder.` });
  });

  it('names every bad key path at once, wrong types and unknown keys alike, with exit code 2', () => {
    const error = loadError(`
[database]
template_name = 42
foo = "bar"

[repository]
path = 42

[environments.local]
include_directories = "0_schema"
colour = "blue"

[backup]
compression = "rar"
`);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('database.template_name: expected string, received integer');
    expect(error.message).toContain('database.foo: unknown key');
    expect(error.message).toContain('repository.path: expected a folder, or a list of folders (strings)');
    expect(error.message).toContain('environments.local.include_directories: expected array, received string');
    expect(error.message).toContain('environments.local.colour: unknown key');
    expect(error.message).toContain('backup.compression: expected one of "zstd", "lz4", "gzip", "none"');
    expect(error.details?.problems).toHaveLength(6);
    // dbfast.toml.example is not in the npm package: the hint points at the README.
    expect(error.hint).toMatch(/README/);
  });

  it('rejects an unknown top-level table', () => {
    expect(loadError('[databse]\nurl = "postgresql://x/y"\n').message).toContain('databse: unknown key');
  });

  it('names file:line for a TOML syntax error', () => {
    const error = loadError('[database]\ntemplate_name = "ok"\nurl = = "x"\n');
    expect(error.code).toBe('CONFIG_SYNTAX');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/dbfast\.toml:3:\d+: invalid TOML/);
  });
});

describe('loadConfig: ${VAR} interpolation', () => {
  it('replaces ${VAR} and ${VAR:-default}; $$ is a literal dollar', () => {
    const config = loadText(
      `
[database]
url = "postgresql://\${DB_USER}@\${DB_HOST:-localhost}:5432/app"
template_name = "t\${SUFFIX:-_x}"

[repository]
path = "\${SQL_DIR}"

[environments.local]
include_files = ["cost$$.sql"]
`,
      { DB_USER: 'alice', SQL_DIR: 'database/sql' },
    );
    expect(config.database.url).toBe('postgresql://alice@localhost:5432/app');
    expect(config.database.templateName).toBe('t_x');
    expect(config.repository.path).toBe(path.join(config.rootDir, 'database/sql'));
    expect(config.environments.local?.include_files).toEqual(['cost$.sql']);
  });

  it('reports each unset variable with the key path that uses it, together with schema problems', () => {
    const error = loadError(`
[database]
url = "postgresql://\${DB_USER}@localhost/app"
port = "5432"

[environments.local]
include_directories = ["\${FIRST_DIR}", "1_seed"]
`);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('database.url: environment variable DB_USER is not set');
    expect(error.message).toContain('environments.local.include_directories[0]: environment variable FIRST_DIR is not set');
    expect(error.message).toContain('database.port: expected number, received string');
  });
});

describe('loadConfig: finding the file', () => {
  it('searches upward from a nested folder and resolves relative paths against the config folder', () => {
    const root = writeTree(tempDir(), {
      'dbfast.toml': '[repository]\npath = "db"\n[backup]\ndir = "../backups"\n[tools]\npg_bin_dir = "bin/pg"\n',
      'db/0_schema/a.sql': 'select 1;',
    });
    const nested = path.join(root, 'db', '0_schema');
    const config = loadConfig({ cwd: nested, env: {} });
    expect(config.configPath).toBe(path.join(root, 'dbfast.toml'));
    expect(config.rootDir).toBe(root);
    expect(config.repository.path).toBe(path.join(root, 'db'));
    expect(config.backup.dir).toBe(path.join(path.dirname(root), 'backups'));
    expect(config.tools.pgBinDir).toBe(path.join(root, 'bin/pg'));
  });

  it('uses --config PATH (relative to cwd) instead of searching, and resolves paths against that file', () => {
    const root = writeTree(tempDir(), {
      'dbfast.toml': '[database]\ntemplate_name = "found_by_search"\n',
      'conf/other.toml': '[database]\ntemplate_name = "explicit"\n[repository]\npath = "../sql"\n',
    });
    const config = loadConfig({ cwd: root, configPath: 'conf/other.toml', env: {} });
    expect(config.database.templateName).toBe('explicit');
    expect(config.configPath).toBe(path.join(root, 'conf/other.toml'));
    expect(config.repository.path).toBe(path.join(root, 'sql'));
  });

  it('takes DBFAST_CONFIG when no --config is given', () => {
    const root = writeTree(tempDir(), { 'x/custom.toml': '[database]\ntemplate_name = "from_env"\n' });
    const config = loadConfig({ cwd: root, env: { DBFAST_CONFIG: path.join(root, 'x/custom.toml') } });
    expect(config.database.templateName).toBe('from_env');
  });

  it('fails with exit 2 and a hint to run dbfast init when no dbfast.toml is found up the tree', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'a/b'), { recursive: true });
    try {
      loadConfig({ cwd: path.join(dir, 'a/b'), env: {} });
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_NOT_FOUND', exitCode: 2 });
      expect((error as DbfastError).hint).toContain('dbfast init');
    }
  });

  it('fails with exit 2 when --config names a missing file', () => {
    const dir = tempDir();
    expect(() => loadConfig({ cwd: dir, configPath: 'nope.toml', env: {} })).toThrow(
      expect.objectContaining({ code: 'CONFIG_NOT_FOUND', exitCode: 2, message: expect.stringContaining('nope.toml') }),
    );
  });
});
