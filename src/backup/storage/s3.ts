import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { pipeline, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { registerCleanup } from '../../cleanup.js';
import { CountingStream } from '../../archive/streams.js';
import { DbfastError } from '../../errors.js';
import { createS3Client, isNotFound, notImplemented, s3Failure } from './s3-client.js';
import { processRunning, processStartTime } from '../../server/postmaster.js';
import { counted } from './local.js';
import type { S3Settings } from './s3-client.js';
import type { BackupStorage, IncompleteWrite, StorageLock, StoredObject, TransferOptions } from './types.js';

/** Parts of a multipart upload: 16 MiB, 3 in flight; 10,000 parts allow 156 GiB. Peak RSS of a create of a 354 MB archive: 213 MiB (4 in flight: 221; 2: 209). */
export const PART_SIZE = 16 * 1024 * 1024;
const QUEUE_SIZE = 3;
const LOCK_NAME = '.create.lock';
/** The lock holder rewrites the lock this often; a lock from another machine not rewritten for STALE_MS is taken over. */
const HEARTBEAT_MS = 30_000;
const STALE_MS = 120_000;

export interface S3Address {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  prefix: string;
}

/** `s3://bucket/some/prefix` -> { bucket, prefix }; undefined for anything that is not an s3:// URL. */
export function parseS3Url(text: string): S3Address | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(text.trim());
  if (!match) return undefined;
  return { bucket: match[1] as string, prefix: (match[2] as string).replace(/^\/+|\/+$/g, '') };
}

interface LockRecord {
  host: string;
  pid: number;
  /** processStartTime of the holder (absent in older locks, and where it cannot be read). */
  processStarted?: string | undefined;
  token: string;
  startedAt: string;
  refreshedAt: string;
}

/**
 * Backups under an S3 prefix, through the official SDK: uploads with lib-storage's multipart
 * `Upload` (an object appears only when the upload completes; a failed one is aborted), reads
 * as streams, and `ListMultipartUploads` to find uploads a killed process left behind. The SDK
 * is imported on first use: commands that never touch S3 do not load it.
 */
export class S3Storage implements BackupStorage {
  readonly kind = 's3' as const;
  readonly location: string;
  private client: Promise<S3Client> | undefined;

  constructor(
    private readonly address: S3Address,
    private readonly settings: S3Settings,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.location = `s3://${address.bucket}/${address.prefix}`;
  }

  describe(name: string): string {
    return `s3://${this.address.bucket}/${this.key(name)}`;
  }

  async put(name: string, body: Readable, options: TransferOptions = {}): Promise<{ sizeBytes: number }> {
    const [client, { Upload }] = await Promise.all([this.sdk(), import('@aws-sdk/lib-storage')]);
    const key = this.key(name);
    const counter = new CountingStream(options.onBytes);
    pipeline(body, counter, () => undefined);
    const upload = new Upload({
      client,
      params: { Bucket: this.address.bucket, Key: key, Body: counter, ContentType: 'application/octet-stream' },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    const abort = (): void => void upload.abort();
    options.signal?.addEventListener('abort', abort);
    // Interrupted: abort the upload before the process exits (the SDK would, once its part uploads settle).
    const unregister = registerCleanup(() => this.abortUploadsOf(key));
    try {
      await upload.done();
      return { sizeBytes: counter.bytes };
    } catch (error) {
      counter.destroy();
      body.destroy();
      await this.abortUploadsOf(key);
      if (options.signal?.aborted) throw new DbfastError('INTERRUPTED', `the upload to ${this.describe(name)} was interrupted`, { cause: error });
      throw this.failure(`uploading ${this.describe(name)}`, error);
    } finally {
      options.signal?.removeEventListener('abort', abort);
      unregister();
    }
  }

  async get(name: string, options: TransferOptions = {}): Promise<Readable> {
    const [client, { GetObjectCommand }] = await Promise.all([this.sdk(), import('@aws-sdk/client-s3')]);
    try {
      const result = await client.send(new GetObjectCommand({ Bucket: this.address.bucket, Key: this.key(name) }), {
        ...(options.signal ? { abortSignal: options.signal } : {}),
      });
      // In Node the SDK's body is the HTTP response stream: nothing is buffered.
      return counted(result.Body as Readable, options.onBytes);
    } catch (error) {
      if (isNotFound(error)) {
        throw new DbfastError('BACKUP_OBJECT_MISSING', `${this.describe(name)} does not exist`, {
          hint: 'It was deleted or never written; list the backups with `dbfast backup list --remote NAME`.',
        });
      }
      throw this.failure(`reading ${this.describe(name)}`, error);
    }
  }

  async head(name: string): Promise<StoredObject | undefined> {
    const [client, { HeadObjectCommand }] = await Promise.all([this.sdk(), import('@aws-sdk/client-s3')]);
    try {
      const result = await client.send(new HeadObjectCommand({ Bucket: this.address.bucket, Key: this.key(name) }));
      return { name, sizeBytes: result.ContentLength ?? 0, modifiedAt: result.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.failure(`reading ${this.describe(name)}`, error);
    }
  }

  async list(): Promise<StoredObject[]> {
    const [client, { paginateListObjectsV2 }] = await Promise.all([this.sdk(), import('@aws-sdk/client-s3')]);
    const prefix = this.key('');
    const objects: StoredObject[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client }, { Bucket: this.address.bucket, Prefix: prefix, Delimiter: '/' })) {
        for (const object of page.Contents ?? []) {
          const name = (object.Key ?? '').slice(prefix.length);
          if (!name || name === LOCK_NAME) continue;
          objects.push({ name, sizeBytes: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) });
        }
      }
    } catch (error) {
      throw this.failure(`listing ${this.location}`, error);
    }
    return objects;
  }

  async delete(name: string): Promise<void> {
    const [client, { DeleteObjectCommand }] = await Promise.all([this.sdk(), import('@aws-sdk/client-s3')]);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: this.address.bucket, Key: this.key(name) }));
    } catch (error) {
      throw this.failure(`deleting ${this.describe(name)}`, error);
    }
  }

  async incomplete(): Promise<IncompleteWrite[]> {
    const uploads = await this.multipartUploads(this.key(''));
    return uploads.map((u) => ({ name: u.key.slice(this.key('').length), label: `unfinished multipart upload of ${this.describe(u.key.slice(this.key('').length))}` }));
  }

  async removeIncomplete(): Promise<string[]> {
    const uploads = await this.multipartUploads(this.key(''));
    for (const upload of uploads) await this.abortUpload(upload.key, upload.uploadId);
    return uploads.map((u) => `unfinished multipart upload of s3://${this.address.bucket}/${u.key}`);
  }

  async lock(): Promise<StorageLock> {
    const taken = await this.takeLock();
    if (taken.held) return taken.held;
    const holder = taken.holder as LockRecord;
    throw new DbfastError('BACKUP_BUSY', `another dbfast process (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) is creating a backup in ${this.location}`, {
      hint: `Wait for it to finish. A lock that is not refreshed for ${STALE_MS / 60_000} minutes is taken over; to take it now, delete ${this.describe(LOCK_NAME)}.`,
    });
  }

  async tryLock(): Promise<StorageLock | undefined> {
    return (await this.takeLock()).held;
  }

  /**
   * The lock is an object naming its holder, rewritten every 30 s. It is free when missing, when
   * its holder on this machine is gone, or when it was not rewritten for 2 minutes. Taking it
   * uses a conditional write (If-None-Match) where the server supports one, and reads it back.
   */
  private async takeLock(): Promise<{ held?: StorageLock; holder?: LockRecord }> {
    const [client, { PutObjectCommand }] = await Promise.all([this.sdk(), import('@aws-sdk/client-s3')]);
    const existing = await this.readLock();
    if (existing && !lockIsStale(existing)) return { holder: existing };
    if (existing) await this.delete(LOCK_NAME);
    const now = new Date().toISOString();
    const mine: LockRecord = { host: os.hostname(), pid: process.pid, processStarted: processStartTime(process.pid), token: randomBytes(8).toString('hex'), startedAt: now, refreshedAt: now };
    const write = (record: LockRecord, conditional: boolean) =>
      client.send(
        new PutObjectCommand({
          Bucket: this.address.bucket,
          Key: this.key(LOCK_NAME),
          Body: JSON.stringify(record),
          ContentType: 'application/json',
          ...(conditional ? { IfNoneMatch: '*' } : {}),
        }),
      );
    try {
      await write(mine, true);
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return { holder: (await this.readLock()) ?? mine };
      if (!notImplemented(error)) throw this.failure(`writing the lock ${this.describe(LOCK_NAME)}`, error);
      await write(mine, false);
    }
    const back = await this.readLock();
    if (back?.token !== mine.token) return { holder: back ?? mine };
    const timer = setInterval(() => {
      void write({ ...mine, refreshedAt: new Date().toISOString() }, false).catch(() => undefined);
    }, HEARTBEAT_MS);
    timer.unref();
    return {
      held: {
        release: async () => {
          clearInterval(timer);
          // Best effort: a lock left behind is taken over (its pid is gone, or it goes stale).
          if ((await this.readLock().catch(() => undefined))?.token === mine.token) await this.delete(LOCK_NAME).catch(() => undefined);
        },
      },
    };
  }

  private async readLock(): Promise<LockRecord | undefined> {
    if (!(await this.head(LOCK_NAME))) return undefined;
    let text = '';
    try {
      const stream = await this.get(LOCK_NAME);
      for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
      const record = JSON.parse(text) as Partial<LockRecord>;
      if (typeof record.pid === 'number' && typeof record.host === 'string' && typeof record.refreshedAt === 'string') return record as LockRecord;
    } catch (error) {
      if (error instanceof DbfastError && error.code === 'BACKUP_OBJECT_MISSING') return undefined;
      if (!(error instanceof SyntaxError)) throw error;
    }
    // Unreadable: treat as stale (a lock is only ever written whole).
    return { host: '', pid: 0, token: '', startedAt: '', refreshedAt: new Date(0).toISOString() };
  }

  private async multipartUploads(prefix: string): Promise<Array<{ key: string; uploadId: string }>> {
    const [client, { ListMultipartUploadsCommand }] = await Promise.all([this.sdk(), import('@aws-sdk/client-s3')]);
    const uploads: Array<{ key: string; uploadId: string }> = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await client.send(
          new ListMultipartUploadsCommand({ Bucket: this.address.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        );
        for (const u of page.Uploads ?? []) if (u.Key && u.UploadId) uploads.push({ key: u.Key, uploadId: u.UploadId });
        if (!page.IsTruncated) break;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (error) {
      // A server without ListMultipartUploads cannot say; its own expiry (or a lifecycle rule) must clean up.
      if (notImplemented(error)) return [];
      throw this.failure(`listing unfinished uploads in ${this.location}`, error);
    }
    return uploads;
  }

  /** Aborts every unfinished upload of one key (best effort: the next command retries). */
  private async abortUploadsOf(key: string): Promise<void> {
    try {
      for (const upload of await this.multipartUploads(key)) if (upload.key === key) await this.abortUpload(upload.key, upload.uploadId);
    } catch {
      // The server may be the reason the upload failed; the next command aborts what is left.
    }
  }

  private async abortUpload(key: string, uploadId: string): Promise<void> {
    const [client, { AbortMultipartUploadCommand }] = await Promise.all([this.sdk(), import('@aws-sdk/client-s3')]);
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: this.address.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      if (!isNotFound(error)) throw this.failure(`aborting an unfinished upload of s3://${this.address.bucket}/${key}`, error);
    }
  }

  private key(name: string): string {
    return this.address.prefix ? `${this.address.prefix}/${name}` : name;
  }

  private sdk(): Promise<S3Client> {
    this.client ??= createS3Client(this.settings, this.env);
    return this.client;
  }

  private failure(what: string, error: unknown): DbfastError {
    return s3Failure(what, error, this.address.bucket, this.settings.endpoint);
  }
}

function lockIsStale(lock: LockRecord): boolean {
  if (lock.host === os.hostname()) return !processRunning(lock.pid, lock.processStarted) || lock.pid === process.pid;
  return Date.now() - Date.parse(lock.refreshedAt) > STALE_MS;
}
