import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { CompressStream, DecompressStream } from 'zstd-napi';
import type { Compression } from '../config/types.js';
import { Lz4FrameDecoder, Lz4FrameEncoder } from './lz4-frame.js';
import { PassThrough } from 'node:stream';

export type { Compression };

export const COMPRESSIONS: readonly Compression[] = ['zstd', 'lz4', 'gzip', 'none'];

/** File-name suffix after `.dump` (none: no suffix). */
export function compressionExtension(compression: Compression): string {
  switch (compression) {
    case 'zstd':
      return '.zst';
    case 'lz4':
      return '.lz4';
    case 'gzip':
      return '.gz';
    case 'none':
      return '';
  }
}

export interface CompressorOptions {
  /** zstd level (default 3), gzip level (default 6); lz4 has none. */
  level?: number;
}

/**
 * A streaming compressor. zstd writes a content checksum into every frame, gzip has its
 * CRC32, and our lz4 framing has an end marker, so truncation or corruption fails the
 * decompression instead of yielding a shorter archive.
 */
export function createCompressor(compression: Compression, options: CompressorOptions = {}): Transform {
  switch (compression) {
    case 'zstd':
      // One worker thread: compression overlaps with reading pg_dump's output.
      return new CompressStream({ compressionLevel: options.level ?? 3, checksumFlag: true, nbWorkers: 1 });
    case 'lz4':
      return new Lz4FrameEncoder();
    case 'gzip':
      return zlib.createGzip({ level: options.level ?? 6 });
    case 'none':
      return new PassThrough();
  }
}

export function createDecompressor(compression: Compression): Transform {
  switch (compression) {
    case 'zstd':
      return new DecompressStream();
    case 'lz4':
      return new Lz4FrameDecoder();
    case 'gzip':
      return zlib.createGunzip();
    case 'none':
      return new PassThrough();
  }
}
