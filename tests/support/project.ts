import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { DbfastConfig } from '../../src/config/types.js';
import { databasesLike, dropDatabase, local, query, uniqueName } from './db.js';

/** A throwaway dbfast project: a folder with dbfast.toml and SQL files, and its own template name. */
export interface TestProject {
  dir: string;
  configPath: string;
  templateName: string;
  /** `<template_name>_<env>`. */
  template(environment?: string): string;
  config(env?: NodeJS.ProcessEnv): DbfastConfig;
  write(relativePath: string, sql: string): string;
  remove(relativePath: string): void;
  /** Rewrites dbfast.toml with these [environments.*] tables (and the project's [repository] keys). */
  writeConfig(environmentsToml: string): void;
}

export const SCHEMA_SQL = 'CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);\n';
export const SEED_SQL = "INSERT INTO item VALUES (1, 'kettle'), (2, 'teapot');\n";

const projects: TestProject[] = [];

export interface ProjectOptions {
  files?: Record<string, string>;
  /** TOML for the [environments.*] tables; default: one `local` environment with everything. */
  environments?: string;
  /** Replaces the [database] url (default: the local test cluster's superuser URL). */
  url?: string;
  /** More [repository] keys, as TOML lines (`path` is always "db"). */
  repository?: string;
}

export function makeProject(options: ProjectOptions = {}): TestProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-project-'));
  const templateName = uniqueName('tp');
  const configPath = path.join(dir, 'dbfast.toml');
  const url = options.url ?? local.adminUrl;
  const project: TestProject = {
    dir,
    configPath,
    templateName,
    template: (environment = 'local') => `${templateName}_${environment}`,
    config: (env = {}) => loadConfig({ configPath, env }),
    write: (relativePath, sql) => {
      const file = path.join(dir, 'db', relativePath);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, sql);
      return file;
    },
    remove: (relativePath) => rmSync(path.join(dir, 'db', relativePath)),
    writeConfig: (environmentsToml) => {
      writeFileSync(
        configPath,
        `[database]\nurl = "${url}"\ntemplate_name = "${templateName}"\n\n[repository]\npath = "db"\n${options.repository ?? ''}\n${environmentsToml}\n`,
      );
    },
  };
  project.writeConfig(options.environments ?? '[environments.local]\n');
  const files = options.files ?? { '0_schema/010_item.sql': SCHEMA_SQL, '1_seed/010_items.sql': SEED_SQL };
  for (const [relativePath, sql] of Object.entries(files)) project.write(relativePath, sql);
  projects.push(project);
  return project;
}

/** Every database whose name starts with the project's template name (templates, leftovers). */
export function projectDatabases(project: TestProject): Promise<string[]> {
  return databasesLike(local, project.templateName);
}

export async function isTemplate(name: string): Promise<{ istemplate: boolean; allowconn: boolean; comment: string | null } | undefined> {
  const rows = await query<{ istemplate: boolean; allowconn: boolean; comment: string | null }>(
    local.adminUrl,
    "SELECT datistemplate AS istemplate, datallowconn AS allowconn, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    [name],
  );
  return rows[0];
}

afterAll(async () => {
  for (const project of projects.splice(0)) {
    for (const name of await projectDatabases(project).catch(() => [])) await dropDatabase(local, name).catch(() => undefined);
    rmSync(project.dir, { recursive: true, force: true });
  }
});
