import { open, type FileHandle } from 'node:fs/promises';
import { splitWindow } from './split.js';
import type { SqlCopy, SqlMetaCommand, SqlStatement } from './items.js';

/**
 * Bytes read from a file at a time: what the reader holds, besides the statement it is inside.
 * Small enough that a window's one-byte string view stays out of V8's large-object space, which
 * only a full collection frees (measured: peak RSS on a 110 MB file ~130 MiB, against ~145-210
 * with 256 KiB windows, at the same CPU time).
 */
export const DEFAULT_CHUNK_BYTES = 96 << 10;

const LF = 10;
const CR = 13;
const BACKSLASH = 92;
const DOT = 46;

/**
 * `COPY ... FROM stdin` with its data as it streams by. The data must be read to the end before
 * the next item is asked for (the reader drains it itself when the consumer does not); `end` is
 * known once it has been.
 */
export interface StreamedCopy {
  kind: 'copy';
  statement: SqlStatement;
  /** Line of the first data line. */
  dataLine: number;
  /** Anything but a comment after the `;` on the COPY line. */
  sameLineText?: string;
  /** The data lines exactly as written (terminator line excluded), in pieces. */
  data: AsyncIterable<Buffer>;
  /** Set when the data has been read: whether a `\.` line ended it, how many lines and bytes it had, the line of the `\.`. */
  end?: { terminated: boolean; dataLines: number; dataBytes: number; endLine: number };
}

export type ReadItem = SqlStatement | SqlMetaCommand | StreamedCopy;

/** Size and modification time of a file when it was opened: a second pass over it checks them. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

/** Where the bytes come from: a file (read a chunk at a time) or a buffer already in memory. */
interface ByteSource {
  /** Up to `length` bytes into `target` at `offset`; 0 at the end. */
  read(target: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
  stamp?: FileStamp;
}

function bufferSource(buffer: Buffer): ByteSource {
  let at = 0;
  return {
    read: async (target, offset, length) => {
      const copied = buffer.copy(target, offset, at, Math.min(buffer.length, at + length));
      at += copied;
      return copied;
    },
    close: async () => undefined,
  };
}

async function fileSource(path: string): Promise<ByteSource> {
  const handle: FileHandle = await open(path, 'r');
  const { size, mtimeMs } = await handle.stat();
  return {
    stamp: { size, mtimeMs },
    read: async (target, offset, length) => (await handle.read(target, offset, length, null)).bytesRead,
    close: () => handle.close(),
  };
}

/** A line that is exactly `\.` starts at `at`; at the end of what is read so far that is known only at the end of the input. */
function terminatorAt(buf: Buffer, at: number, eof: boolean): boolean {
  if (buf[at] !== BACKSLASH || buf[at + 1] !== DOT) return false;
  const after = at + 2;
  if (after === buf.length) return eof;
  if (buf[after] === LF) return true;
  if (buf[after] !== CR) return false;
  return after + 1 === buf.length ? eof : buf[after + 1] === LF;
}

/** Start of the `\.` line in `buf` (which starts at a line start), or -1. */
function findTerminator(buf: Buffer, eof: boolean): number {
  if (terminatorAt(buf, 0, eof)) return 0;
  for (let at = buf.indexOf('\n\\.'); at >= 0; at = buf.indexOf('\n\\.', at + 1)) {
    if (terminatorAt(buf, at + 1, eof)) return at + 1;
  }
  return -1;
}

function countLines(buf: Buffer, to: number): number {
  let count = 0;
  for (let at = buf.indexOf(LF); at >= 0 && at < to; at = buf.indexOf(LF, at + 1)) count++;
  return count;
}

async function* slices(data: Buffer, chunkBytes: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += chunkBytes) yield data.subarray(at, at + chunkBytes);
}

/**
 * Reads SQL a window at a time and yields what psql would read, in order, holding only the
 * window (about `chunkBytes`, or the statement it is inside when that is longer) and streaming
 * COPY data through. Lines and columns are those of the whole file, as `splitSql` gives them.
 */
export class SqlReader {
  private carry: Buffer = Buffer.alloc(0);
  private line = 1;
  private column = 0;
  private first = true;
  private eof = false;

  private constructor(
    private readonly source: ByteSource,
    private readonly chunkBytes: number,
  ) {}

  /** Reads the file at `path`, or `content` when given (SQL not on disk, or already read). */
  static async open(path: string, content?: Buffer, chunkBytes = DEFAULT_CHUNK_BYTES): Promise<SqlReader> {
    return new SqlReader(content ? bufferSource(content) : await fileSource(path), Math.max(64, chunkBytes));
  }

  close(): Promise<void> {
    return this.source.close();
  }

  /** The file's size and modification time when it was opened (undefined for SQL in memory). */
  get stamp(): FileStamp | undefined {
    return this.source.stamp;
  }

  /**
   * `held` and at least `bytes` more after it (fewer only at the end of the input), in a fresh
   * buffer: COPY data handed out as slices of an earlier one may still be on its way to the server.
   */
  private async readMore(held: Buffer, bytes: number): Promise<Buffer> {
    const window = Buffer.allocUnsafe(held.length + bytes);
    held.copy(window);
    let length = held.length;
    while (length < window.length) {
      const read = await this.source.read(window, length, window.length - length);
      if (read === 0) {
        this.eof = true;
        break;
      }
      length += read;
    }
    return window.subarray(0, length);
  }

  /** Every item, one at a time (see `windows` for the same in arrays). */
  async *items(): AsyncGenerator<ReadItem> {
    for await (const items of this.windows()) yield* items;
  }

  /**
   * The items a window at a time, in order: one array per window, and a COPY whose data runs
   * past the window in an array of its own (its data must be read before the next array is
   * asked for; the reader reads it through itself otherwise). Arrays, because one await per
   * window costs nothing where one per statement is most of the time spent on small statements.
   */
  async *windows(): AsyncGenerator<ReadItem[]> {
    for (;;) {
      // Read at least as much as is held: a statement longer than a chunk costs a linear number of re-splits.
      const window = this.eof ? this.carry : await this.readMore(this.carry, Math.max(this.chunkBytes, this.carry.length));
      if (window.length === 0 && this.eof) return;
      const split = splitWindow(window, { final: this.eof, line: this.line, column: this.column, first: this.first });
      if (split.consumed > 0) this.first = false;
      const items: ReadItem[] = split.items.map((item) => (item.kind === 'copy' ? this.inlineCopy(window, item) : item));
      this.carry = window.subarray(split.consumed);
      this.line = split.line;
      this.column = split.column;
      if (items.length > 0) yield items;
      if (split.openCopy) {
        const copy = this.streamedCopy(split.openCopy);
        yield [copy];
        if (!copy.end) for await (const piece of copy.data) void piece;
        if (!copy.end) throw new Error('COPY data was abandoned half read');
      } else if (this.eof) {
        return;
      }
    }
  }

  private inlineCopy(window: Buffer, copy: SqlCopy): StreamedCopy {
    const data = window.subarray(copy.dataStart, copy.dataEnd);
    const item: StreamedCopy = { kind: 'copy', statement: copy.statement, dataLine: copy.dataLine, data: slices(data, this.chunkBytes) };
    if (copy.sameLineText !== undefined) item.sameLineText = copy.sameLineText;
    item.end = { terminated: copy.terminated, dataLines: copy.dataLines, dataBytes: data.length, endLine: copy.endLine };
    return item;
  }

  private streamedCopy(copy: SqlCopy): StreamedCopy {
    const item: StreamedCopy = { kind: 'copy', statement: copy.statement, dataLine: copy.dataLine, data: this.copyData(copy.dataLine, () => item) };
    if (copy.sameLineText !== undefined) item.sameLineText = copy.sameLineText;
    return item;
  }

  /** COPY data from `carry` (a line start) on: complete lines as they come, up to the `\.` line or the end. */
  private async *copyData(dataLine: number, item: () => StreamedCopy): AsyncGenerator<Buffer> {
    let buf = this.carry;
    let lines = 0;
    let bytes = 0;
    for (;;) {
      const terminator = findTerminator(buf, this.eof);
      if (terminator >= 0) {
        if (terminator > 0) yield buf.subarray(0, terminator);
        bytes += terminator;
        lines += countLines(buf, terminator);
        const lineEnd = buf.indexOf(LF, terminator);
        this.carry = lineEnd < 0 ? buf.subarray(buf.length) : buf.subarray(lineEnd + 1);
        this.line = dataLine + lines + 1;
        this.column = 0;
        item().end = { terminated: true, dataLines: lines, dataBytes: bytes, endLine: dataLine + lines };
        return;
      }
      if (this.eof) {
        if (buf.length > 0) yield buf;
        bytes += buf.length;
        const open = buf.length > 0 && buf[buf.length - 1] !== LF ? 1 : 0;
        lines += countLines(buf, buf.length) + open;
        this.carry = buf.subarray(buf.length);
        item().end = { terminated: false, dataLines: lines, dataBytes: bytes, endLine: dataLine + lines - open };
        return;
      }
      const lastLine = buf.lastIndexOf(LF);
      if (lastLine >= 0) {
        yield buf.subarray(0, lastLine + 1);
        bytes += lastLine + 1;
        lines += countLines(buf, lastLine + 1);
        buf = buf.subarray(lastLine + 1);
      }
      buf = await this.readMore(buf, Math.max(this.chunkBytes, buf.length));
    }
  }
}
