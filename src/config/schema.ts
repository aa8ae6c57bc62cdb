import { z } from 'zod';
import { variableNameProblem } from './variables.js';
import { webhooksSchema } from './webhooks-schema.js';

const stringList = z.array(z.string());

/** psql variables: `NAME = "value"` (numbers and booleans are written out as psql would take them). */
const variablesSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).superRefine((variables, ctx) => {
  for (const name of Object.keys(variables)) {
    const problem = variableNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
  }
});

export const hookSchema = z.strictObject({
  pre: stringList.optional(),
  post: stringList.optional(),
  required_env: stringList.optional(),
  post_failure: z.enum(['rollback', 'warn']).optional(),
  timeout_seconds: z.number().positive().optional(),
});

export const healthCheckSchema = z.strictObject({
  url: z.string(),
  expected_status: z.number().int().optional(),
  timeout_seconds: z.number().positive().optional(),
});

/** `[pool]` (issue 13): ready clones kept for `dbfast seed` and `createPool()`; `[environments.NAME.pool]` overrides `size`. */
const poolSizeSchema = z.number().int().min(0).max(64);

export const poolSchema = z.strictObject({
  size: poolSizeSchema.optional(),
  max_clones: z.number().int().min(1).max(1000).optional(),
  lease_timeout_seconds: z.number().positive().optional(),
});

/** One layer of `layers`: its folders, or a table with the folders and options. */
const layerSchema = z.union([
  z.array(z.string().min(1)).min(1),
  z.strictObject({
    folders: z.array(z.string().min(1)).min(1),
    /** Files only load rows: run them on several connections (true: as many as suit the machine). */
    parallel: z.union([z.boolean(), z.number().int().min(1).max(32)]).optional(),
  }),
]);

/** A path or glob relative to dbfast.toml's folder that stays inside it. */
const insideGlob = z.string().min(1).refine((glob) => !glob.startsWith('/') && !glob.split('/').includes('..'), {
  message: 'must be relative to the folder of dbfast.toml and stay inside it (no leading / or ..)',
});

/** `[[deploy.groups]]`: what runs on the live database after it is in place, group by group (see src/deploy/groups.ts). */
export const deployGroupSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { message: 'a group name is a letter followed by letters, digits, _ or -' }),
  /** Groups run by `order` (lowest first), ties in the order they are written. */
  order: z.number().int().optional(),
  files: z.array(insideGlob).optional(),
  commands: stringList.optional(),
  pre: stringList.optional(),
  post: stringList.optional(),
  required_env: stringList.optional(),
  health_check: healthCheckSchema.optional(),
  description: z.string().optional(),
});

/** `[deploy]`: the hooks of every remote's deploys, and the deploy groups. */
export const deploySchema = hookSchema.extend({ groups: z.array(deployGroupSchema).optional() }).superRefine((deploy, ctx) => {
  const seen = new Set<string>();
  for (const [index, group] of (deploy.groups ?? []).entries()) {
    if (seen.has(group.name)) ctx.addIssue({ code: 'custom', path: ['groups', index, 'name'], message: `group "${group.name}" is defined twice` });
    seen.add(group.name);
  }
});

export const environmentSchema = z.strictObject({
  pool: z.strictObject({ size: poolSizeSchema.optional() }).optional(),
  include_directories: stringList.optional(),
  exclude_directories: stringList.optional(),
  include_files: stringList.optional(),
  exclude_files: stringList.optional(),
  allow_seed_data: z.boolean().optional(),
  migration_directories: stringList.optional(),
  variables: variablesSchema.optional(),
  description: z.string().optional(),
  /** "folders" (default: one layer per top-level folder), "none" (one template), or the layers in run order. */
  layers: z.union([z.enum(['folders', 'none']), z.array(layerSchema).min(1)]).optional(),
});

/** `[backup] dir`: a folder, or `s3://bucket/prefix` for S3-compatible object storage. */
const backupDir = z
  .string()
  .min(1)
  .refine((dir) => !/^s3:/i.test(dir) || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(dir), {
    message: 'an S3 location is s3://BUCKET or s3://BUCKET/PREFIX (bucket names: 3-63 lower-case letters, digits, "." and "-")',
  });

/** Where backups go and how long they are kept: `[backup]`, and `[remotes.NAME.backup]` to override it for one remote. */
const backupPlaceFields = {
  dir: backupDir.optional(),
  /** S3-compatible servers (MinIO, Garage, Ceph): their URL; AWS_ENDPOINT_URL works too. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Bucket in the path (http://host/bucket/key) instead of the host name: most self-hosted servers need it. */
  force_path_style: z.boolean().optional(),
  keep_last: z.number().int().min(1).optional(),
  keep_days: z.number().positive().optional(),
};

const remoteBackupSchema = z.strictObject(backupPlaceFields);

const remoteFields = {
  url: z.string(),
  password_env: z.string().optional(),
  environment: z.string(),
  allow_destructive: z.boolean().optional(),
  backup_before_deploy: z.boolean().optional(),
  require_confirmation: z.boolean().optional(),
  no_owner: z.boolean().optional(),
  no_privileges: z.boolean().optional(),
  keep_previous: z.boolean().optional(),
  validate: stringList.optional(),
  deploy: hookSchema.optional(),
  health_check: healthCheckSchema.optional(),
  description: z.string().optional(),
  backup: remoteBackupSchema.optional(),
};

export const remoteSchema = z.strictObject(remoteFields);
export const namedRemoteSchema = z.strictObject({ name: z.string().min(1), ...remoteFields });

const configFields = {
  database: z
    .strictObject({
      url: z.string().optional(),
      host: z.string().optional(),
      port: z.number().int().min(1).max(65535).optional(),
      user: z.string().optional(),
      password_env: z.string().optional(),
      dbname: z.string().optional(),
      template_name: z.string().min(1).max(40).optional(),
      server: z.enum(['managed', 'external']).optional(),
    })
    .optional(),
  repository: z
    .strictObject({
      /** One folder, or several (each named after its folder; see config/repositories.ts). */
      path: z.union([z.string(), z.array(z.string().min(1)).min(1)], { error: 'expected a folder, or a list of folders (strings)' }).optional(),
      runner: z.enum(['inprocess', 'psql']).optional(),
      variables: variablesSchema.optional(),
      cluster_setup: stringList.optional(),
    })
    .optional(),
  /** `[[repositories]]`: several SQL repositories, run in the order written (config/repositories.ts). */
  repositories: z.array(z.strictObject({ name: z.string(), path: z.string().min(1) })).min(1).optional(),
  environments: z.record(z.string(), environmentSchema).optional(),
  backup: z
    .strictObject({
      ...backupPlaceFields,
      /** The old name of keep_last (still read; both at once is an error). */
      keep: z.number().int().min(1).optional(),
      compression: z.enum(['zstd', 'lz4', 'gzip', 'none']).optional(),
    })
    .refine((backup) => backup.keep === undefined || backup.keep_last === undefined, {
      message: '`keep` is the old name of `keep_last`: write only keep_last',
      path: ['keep'],
    })
    .optional(),
  tools: z.strictObject({ pg_bin_dir: z.string().optional() }).optional(),
  pool: poolSchema.optional(),
  deploy: deploySchema.optional(),
  webhooks: webhooksSchema.optional(),
};

export const configFileSchema = z.strictObject({
  ...configFields,
  remotes: z.union([z.record(z.string(), remoteSchema), z.array(namedRemoteSchema)]).optional(),
});

/**
 * The schema to check a parsed file with. Remotes come as `[remotes.NAME]` tables or as
 * `[[remotes]]` with `name`; checking the form the file uses gives precise key paths
 * where a union would only say "no variant matched".
 */
export function configSchemaFor(input: unknown): typeof configFileSchema {
  const remotes = (input as { remotes?: unknown } | null)?.remotes;
  const remotesSchema = Array.isArray(remotes) ? z.array(namedRemoteSchema) : z.record(z.string(), remoteSchema);
  return z.strictObject({ ...configFields, remotes: remotesSchema.optional() }) as unknown as typeof configFileSchema;
}

export type ConfigFile = z.infer<typeof configFileSchema>;
export type EnvironmentFileConfig = z.infer<typeof environmentSchema>;
export type RemoteFileConfig = z.infer<typeof remoteSchema>;
export type HookFileConfig = z.infer<typeof hookSchema>;
export type PoolFileConfig = z.infer<typeof poolSchema>;
export type HealthCheckFileConfig = z.infer<typeof healthCheckSchema>;
export type DeployFileConfig = z.infer<typeof deploySchema>;
export type DeployGroupFileConfig = z.infer<typeof deployGroupSchema>;
