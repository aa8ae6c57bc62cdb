import { Transform, type TransformCallback } from 'node:stream';
import { compress, uncompress } from 'lz4-napi';

/**
 * lz4-napi compresses whole buffers only, so dbfast frames the stream itself:
 *
 *   block   = MAGIC (4 bytes "DFL4") | payload length (u32 LE) | payload
 *   payload = lz4-napi output (u32 LE raw length + LZ4 block) of at most LZ4_BLOCK_SIZE raw bytes
 *   end     = MAGIC | 0
 *
 * Memory stays at a few blocks whatever the input size; the explicit end marker makes a
 * truncated file an error instead of a silently shorter archive. Blocks are 128 KiB, not
 * larger: lz4-napi's native output buffers are freed only when V8 collects them, and with
 * 1 MiB blocks the process grew to several hundred MiB on a few hundred MiB of input.
 */
export const LZ4_MAGIC = Buffer.from('DFL4', 'latin1');
export const LZ4_BLOCK_SIZE = 128 * 1024;
const HEADER_SIZE = 8;
/** No encoder of ours writes bigger blocks: a larger length means the header is corrupt. */
const MAX_PAYLOAD = 16 * 1024 * 1024;

function header(length: number): Buffer {
  const head = Buffer.alloc(HEADER_SIZE);
  LZ4_MAGIC.copy(head, 0);
  head.writeUInt32LE(length, 4);
  return head;
}

export class Lz4FrameEncoder extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly blockSize = LZ4_BLOCK_SIZE) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.blockSize) {
      callback();
      return;
    }
    this.emitBlocks(false).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.emitBlocks(true).then(() => {
      this.push(header(0));
      callback();
    }, callback);
  }

  private async emitBlocks(final: boolean): Promise<void> {
    let data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    while (data.length >= this.blockSize || (final && data.length > 0)) {
      const block = data.subarray(0, this.blockSize);
      data = data.subarray(block.length);
      const payload = await compress(block);
      this.push(header(payload.length));
      this.push(payload);
    }
    if (data.length > 0) {
      this.pending.push(Buffer.from(data));
      this.pendingBytes = data.length;
    }
  }
}

export class Lz4FrameDecoder extends Transform {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private offset = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    this.drain().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.ended) {
      callback(new Error(`lz4 stream is truncated: it ends at byte ${this.offset + this.bufferedBytes} without the end-of-stream marker`));
      return;
    }
    callback();
  }

  private takeBytes(length: number): Buffer {
    const all = this.buffered.length === 1 ? (this.buffered[0] as Buffer) : Buffer.concat(this.buffered, this.bufferedBytes);
    const taken = all.subarray(0, length);
    const rest = all.subarray(length);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    this.offset += length;
    return taken;
  }

  private async drain(): Promise<void> {
    while (this.bufferedBytes >= HEADER_SIZE) {
      if (this.ended) throw new Error(`lz4 stream has data after its end-of-stream marker (byte ${this.offset})`);
      const head = this.takeBytes(HEADER_SIZE);
      const at = this.offset - HEADER_SIZE;
      if (!head.subarray(0, 4).equals(LZ4_MAGIC)) throw new Error(`lz4 stream is corrupt: no block marker at byte ${at}`);
      const length = head.readUInt32LE(4);
      if (length === 0) {
        this.ended = true;
        continue;
      }
      if (length > MAX_PAYLOAD) throw new Error(`lz4 stream is corrupt: impossible block length ${length} at byte ${at}`);
      if (this.bufferedBytes < length) {
        // Put the header back and wait for the rest of the block.
        this.buffered.unshift(head);
        this.bufferedBytes += HEADER_SIZE;
        this.offset -= HEADER_SIZE;
        return;
      }
      const payload = Buffer.from(this.takeBytes(length));
      let raw: Buffer;
      try {
        raw = await uncompress(payload);
      } catch (error) {
        throw new Error(`lz4 stream is corrupt: block at byte ${at} does not decompress (${(error as Error).message})`, { cause: error });
      }
      this.push(raw);
    }
  }
}
