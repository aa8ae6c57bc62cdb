import { z } from 'zod';
import type { DatabaseSetting } from '../pg/db-properties.js';
import type { TableCount } from '../validate/tables.js';

export type { TableCount } from '../validate/tables.js';

export const BACKUP_FORMAT_VERSION = 1;

export interface VerificationRecord {
  at: string;
  ok: boolean;
  /** Empty when ok. */
  problems: string[];
}

export interface RestoreVerificationRecord extends VerificationRecord {
  /** Which server the scratch restore ran on. */
  server: 'remote' | 'local';
  durationMs: number;
}

/** The metadata JSON written beside each backup file (`<id>.json`). */
export interface BackupInfo {
  formatVersion: number;
  id: string;
  remote: string;
  database: string;
  /** File name of the archive, in the same folder as this metadata. */
  file: string;
  createdAt: string;
  durationMs: number;
  /** Size of the file on disk (compressed). */
  sizeBytes: number;
  /** Size of the pg_dump archive before compression. */
  rawBytes: number;
  /** sha256 (hex) of the file on disk. */
  sha256: string;
  compression: 'zstd' | 'lz4' | 'gzip' | 'none';
  serverVersion: string;
  serverVersionNum: number;
  pgDumpVersion: string;
  dbfastVersion: string;
  tables: TableCount[];
  /** Schemas the backup holds (not system or extension ones), so an in-place restore can replace them whole. */
  schemas: string[];
  /** Migrations the backed-up database had applied: a restore marks later ones rolled back. */
  migrations?: string[] | undefined;
  /**
   * The database's own settings (`ALTER DATABASE ... SET`, `ALTER ROLE ... IN DATABASE ... SET`),
   * which pg_dump without --create leaves out: a restore gives the database exactly these.
   * Absent in backups made before dbfast recorded them (a restore then keeps the live database's).
   */
  settings?: DatabaseSetting[] | undefined;
  /** Last checksum + readability check (the read-back of `backup create`, then `backup verify`); null in backups made before dbfast recorded it. */
  verified: VerificationRecord | null;
  /** Last restore test (`backup verify --restore-test`); null until one ran. */
  verifiedByRestore: RestoreVerificationRecord | null;
}

const verification = z.object({ at: z.string(), ok: z.boolean(), problems: z.array(z.string()) });

export const backupInfoSchema = z.object({
  formatVersion: z.number().int(),
  id: z.string(),
  remote: z.string(),
  database: z.string(),
  file: z.string(),
  createdAt: z.string(),
  durationMs: z.number(),
  sizeBytes: z.number().int().nonnegative(),
  rawBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  compression: z.enum(['zstd', 'lz4', 'gzip', 'none']),
  serverVersion: z.string(),
  serverVersionNum: z.number().int(),
  pgDumpVersion: z.string(),
  dbfastVersion: z.string(),
  tables: z.array(z.object({ schema: z.string(), table: z.string(), rows: z.number().int().nonnegative() })),
  schemas: z.array(z.string()),
  /** Migrations applied in the backed-up database (absent in backups made before dbfast tracked them). */
  migrations: z.array(z.string()).optional(),
  /** The database's own settings (absent in backups made before dbfast recorded them). */
  settings: z.array(z.object({ role: z.string().nullable(), name: z.string(), value: z.string() })).optional(),
  verified: verification.nullable(),
  verifiedByRestore: verification.extend({ server: z.enum(['remote', 'local']), durationMs: z.number() }).nullable(),
});

/** What is known about a backup: its last check passed, failed, or none ran. */
export type BackupHealth = 'verified' | 'unverified' | 'damaged';

/**
 * The most recent check of either kind (a checksum check, a restore test). On a tie the failed
 * one wins: a restore test that passed last month says nothing once today's checksum fails.
 */
export function lastCheck(info: BackupInfo): VerificationRecord | null {
  const checks = [info.verified, info.verifiedByRestore].filter((c): c is VerificationRecord => c !== null);
  checks.sort((a, b) => b.at.localeCompare(a.at) || Number(a.ok) - Number(b.ok));
  return checks[0] ?? null;
}

/** `damaged` when the last check failed, `verified` when it passed, `unverified` when none ran. */
export function backupHealth(info: BackupInfo): BackupHealth {
  const check = lastCheck(info);
  return check === null ? 'unverified' : check.ok ? 'verified' : 'damaged';
}

/** True when the last check passed (what `list` shows as verified and `backup check` counts). */
export function isVerified(info: BackupInfo): boolean {
  return backupHealth(info) === 'verified';
}

/** The fields `create --json` and `list --json` print for a backup. */
export interface BackupSummary {
  id: string;
  file: string;
  createdAt: string;
  sizeBytes: number;
  sha256: string;
  compression: BackupInfo['compression'];
  database: string;
  remote: string;
}
