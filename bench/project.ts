import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A dbfast project the bench writes: its own folder with a dbfast.toml (and .dbfast/ caches). */
export interface BenchProject {
  dir: string;
  configPath: string;
  /** The environment's template database: `<template_name>_<environment>`. */
  template: string;
  environment: string;
  repository: string;
}

export interface RemoteSection {
  name: string;
  url: string;
  passwordEnv: string;
  environment: string;
}

const toml = (value: string): string => JSON.stringify(value);

export function writeProject(options: {
  dir: string;
  serverUrl: string;
  templateName: string;
  environment: string;
  repository: string;
  pgBinDir: string;
  backupDir?: string;
  remote?: RemoteSection;
  /** More lines for `[environments.<environment>]` (e.g. `layers = ...`). */
  environmentLines?: string[];
}): BenchProject {
  mkdirSync(options.dir, { recursive: true });
  const lines = [
    '[database]',
    `url = ${toml(options.serverUrl)}`,
    `template_name = ${toml(options.templateName)}`,
    '',
    '[repository]',
    `path = ${toml(options.repository)}`,
    '',
    // No include/exclude: the environment gets every .sql file, in natural order.
    `[environments.${options.environment}]`,
    ...(options.environmentLines ?? []),
    '',
    '[tools]',
    `pg_bin_dir = ${toml(options.pgBinDir)}`,
  ];
  if (options.backupDir) lines.push('', '[backup]', `dir = ${toml(options.backupDir)}`, 'compression = "zstd"');
  if (options.remote) {
    const r = options.remote;
    lines.push(
      '',
      `[remotes.${r.name}]`,
      `url = ${toml(r.url)}`,
      `password_env = ${toml(r.passwordEnv)}`,
      `environment = ${toml(r.environment)}`,
      'allow_destructive = true',
      // The template's objects belong to the local superuser; the remote role restores them as its own.
      'no_owner = true',
    );
  }
  const configPath = path.join(options.dir, 'dbfast.toml');
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  return { dir: options.dir, configPath, template: `${options.templateName}_${options.environment}`, environment: options.environment, repository: options.repository };
}
