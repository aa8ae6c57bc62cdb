import { createHash, type Hash } from 'node:crypto';
import { Transform, Writable, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through unchanged while counting them and hashing them (sha256), so a
 * checksum costs no extra read of the file.
 */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private finalDigest: string | undefined;

  constructor(private readonly onBytes?: (total: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    this.onBytes?.(this.count);
    callback(null, chunk);
  }

  get bytes(): number {
    return this.count;
  }

  /** The hex sha256 of everything that went through; call once the stream has ended. */
  digest(): string {
    this.finalDigest ??= this.hash.digest('hex');
    return this.finalDigest;
  }
}

/** Counts bytes without hashing (cheaper, for progress on the uncompressed side). */
export class CountingStream extends Transform {
  private count = 0;

  constructor(private readonly onBytes?: (total: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count += chunk.length;
    this.onBytes?.(this.count);
    callback(null, chunk);
  }

  get bytes(): number {
    return this.count;
  }
}

/**
 * Feeds a child's stdin. When the child stops reading early (pg_restore --list reads only
 * the table of contents) further bytes are discarded instead of failing with EPIPE, so the
 * producer can still read its whole input (to finish a checksum or a decompression check).
 */
export class ChildStdinSink extends Writable {
  private stdinGone = false;

  constructor(private readonly stdin: NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean }) {
    super();
    const markClosed = (): void => {
      this.stdinGone = true;
    };
    stdin.on('error', markClosed);
    stdin.on('close', markClosed);
  }

  /** True once the child closed its stdin before we finished writing. */
  get childStoppedReading(): boolean {
    return this.stdinGone;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.stdinGone || this.stdin.destroyed) {
      this.stdinGone = true;
      callback();
      return;
    }
    const more = this.stdin.write(chunk);
    if (more) {
      callback();
      return;
    }
    // Wait for drain, or for the child to go away (then we discard the rest).
    const done = (): void => {
      this.stdin.removeListener('drain', done);
      this.stdin.removeListener('close', done);
      this.stdin.removeListener('error', done);
      callback();
    };
    this.stdin.on('drain', done);
    this.stdin.on('close', done);
    this.stdin.on('error', done);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.stdinGone || this.stdin.destroyed || this.stdin.writableEnded) {
      callback();
      return;
    }
    this.stdin.end(() => callback());
  }
}

/** Calls `report` at most every `intervalMs` with the running total and a bytes/s rate. */
export function throttledProgress(
  report: (done: number, ratePerSecond: number) => void,
  intervalMs = 250,
): (total: number) => void {
  const started = Date.now();
  let last = 0;
  return (total: number) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    const seconds = Math.max((now - started) / 1000, 0.001);
    report(total, total / seconds);
  };
}

/**
 * How many uncompressed archive bytes a restore will read, for progress with a total: `given`
 * (a backup's recorded raw size), else the size of an uncompressed archive file; else unknown.
 */
export async function expectedRawBytes(input: string | NodeJS.ReadableStream, compression: string, given?: number): Promise<number | undefined> {
  if (given !== undefined) return given;
  if (typeof input !== 'string' || compression !== 'none') return undefined;
  const { stat } = await import('node:fs/promises');
  return stat(input).then((info) => info.size, () => undefined);
}

