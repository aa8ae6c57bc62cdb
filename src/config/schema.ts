import { z } from 'zod';
import { webhooksSchema } from './webhooks-schema.js';

const stringList = z.array(z.string());

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

export const environmentSchema = z.strictObject({
  pool: z.strictObject({ size: poolSizeSchema.optional() }).optional(),
  include_directories: stringList.optional(),
  exclude_directories: stringList.optional(),
  include_files: stringList.optional(),
  exclude_files: stringList.optional(),
  allow_seed_data: z.boolean().optional(),
  migration_directories: stringList.optional(),
  description: z.string().optional(),
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
      path: z.string().optional(),
      runner: z.enum(['inprocess', 'psql']).optional(),
    })
    .optional(),
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
  deploy: hookSchema.optional(),
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
