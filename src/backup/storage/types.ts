import type { Readable } from 'node:stream';

/** One complete object in a backup store: a file in the folder, or an object under the S3 prefix. */
export interface StoredObject {
  /** Name inside the remote's store (`<id>.dump.zst`, `<id>.json`): one path segment. */
  name: string;
  sizeBytes: number;
  modifiedAt: Date;
}

/** A write that was started and never finished: a `.partial` file, an S3 multipart upload. */
export interface IncompleteWrite {
  /** Name it would have had once complete. */
  name: string;
  /** How the store calls it, for messages (`X.dump.zst.1a2b3c.partial`, `multipart upload 2~abc of X`). */
  label: string;
}

export interface TransferOptions {
  signal?: AbortSignal | undefined;
  /** Called with the bytes moved so far (for progress). */
  onBytes?: ((total: number) => void) | undefined;
}

/** An exclusive hold on a store for writing backups (one `backup create` at a time). */
export interface StorageLock {
  release(): Promise<void>;
}

/**
 * Where one remote's backups live. Two backends: a local directory and S3-compatible object
 * storage. What the backup code relies on, both keep:
 * - `put` streams (memory stays flat whatever the size) and is all or nothing: the name
 *   appears in `list`/`head` only once every byte is durably stored; a failed or aborted put
 *   leaves nothing under the name (local: the `.partial` file is removed; S3: the multipart
 *   upload is aborted). A put killed outright leaves an `incomplete` write, which
 *   `removeIncomplete` (called with the lock held) deletes.
 * - `get` streams.
 * - `lock` is one writer at a time; a lock whose holder died is taken over.
 */
export interface BackupStorage {
  readonly kind: 'directory' | 's3';
  /** The folder, or `s3://bucket/prefix/remote`: for messages and `--json`. */
  readonly location: string;
  /** Where one object is, for messages and `--json` (a path, or an s3:// URL). */
  describe(name: string): string;
  put(name: string, body: Readable, options?: TransferOptions): Promise<{ sizeBytes: number }>;
  /** Throws BACKUP_OBJECT_MISSING when there is no such object. */
  get(name: string, options?: TransferOptions): Promise<Readable>;
  head(name: string): Promise<StoredObject | undefined>;
  /** Complete objects only, in no particular order; an empty list when the store does not exist yet. */
  list(): Promise<StoredObject[]>;
  /** Deleting what is not there is not an error. */
  delete(name: string): Promise<void>;
  /** Writes that never finished (only meaningful while nobody holds the lock). */
  incomplete(): Promise<IncompleteWrite[]>;
  /** Removes every incomplete write; call with the lock held. Returns their labels. */
  removeIncomplete(): Promise<string[]>;
  /** Takes the writer lock, or throws BACKUP_BUSY naming the holder. */
  lock(): Promise<StorageLock>;
  /** Takes the writer lock, or returns undefined when someone alive holds it. */
  tryLock(): Promise<StorageLock | undefined>;
}
