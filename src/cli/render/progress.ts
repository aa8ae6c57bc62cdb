import type { ProgressEvent } from '../../logger.js';
import { bytes, count, eta, type Style } from './format.js';

/** Redraws at most this often: a terminal repainted per COPY chunk costs more than the COPY. */
const REDRAW_MS = 100;
/** An ETA from the first seconds of a step is mostly noise. */
const ETA_AFTER_MS = 2000;

/** Where a progress line is drawn: a terminal's stderr (or a test double). */
export interface ProgressStream {
  write(text: string): unknown;
  columns?: number | undefined;
}

/** What ETA is measured against: a counter that has a total. */
function measure(event: ProgressEvent): { done: number; total: number } | undefined {
  if (event.bytes !== undefined && event.totalBytes) return { done: event.bytes, total: event.totalBytes };
  if (event.rows !== undefined && event.totalRows) return { done: event.rows, total: event.totalRows };
  if (event.done !== undefined && event.total && event.unit !== 'files') return { done: event.done, total: event.total };
  return undefined;
}

function counts(done: number, total: number | undefined, unit: ProgressEvent['unit']): string {
  if (unit === 'bytes') return `${bytes(done)}${total ? ` / ${bytes(total)}` : ''}`;
  const text = `${count(done)}${total ? ` / ${count(total)}` : ''}`;
  return unit ? `${text} ${unit}` : text;
}

/**
 * The text of one progress line (without ETA): `sql 1 / 2 files  data/big.sql  812,345 rows
 * 52.1 MiB / 150.0 MiB`. Pure, for tests.
 */
export function progressText(event: ProgressEvent): string {
  const parts = [event.phase];
  if (event.done !== undefined) parts.push(counts(event.done, event.total, event.unit));
  if (event.item) parts.push(event.item);
  if (event.detail) parts.push(event.detail);
  if (event.rows !== undefined && event.unit !== 'rows') parts.push(counts(event.rows, event.totalRows, 'rows'));
  if (event.bytes !== undefined && event.unit !== 'bytes') parts.push(counts(event.bytes, event.totalBytes, 'bytes'));
  return parts.join('  ');
}

/**
 * The one progress line on a terminal: drawn in place (`\r`, erase line), clipped to the
 * terminal's width so it never wraps (a wrapped line cannot be erased), with an ETA once a step
 * with a known total has run a while. `clear()` erases it; the Output calls it before writing
 * anything else, so a result never lands glued to a progress line.
 */
export class ProgressLine {
  private shown = false;
  private lastDraw = -Infinity;
  private phase: string | undefined;
  /** Where the ETA's measure stood when it started: a new phase, a new total, or a count that went back restarts it. */
  private base: { done: number; total: number; at: number } | undefined;
  private lastDone = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly style: Style,
    private readonly now: () => number = () => performance.now(),
  ) {}

  update(event: ProgressEvent): void {
    const now = this.now();
    const m = measure(event);
    if (event.phase !== this.phase || !m || !this.base || m.total !== this.base.total || m.done < this.lastDone) {
      this.base = m ? { done: m.done, total: m.total, at: now } : undefined;
    }
    this.lastDone = m?.done ?? 0;
    const newPhase = event.phase !== this.phase;
    this.phase = event.phase;
    if (!newPhase && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    let text = progressText(event);
    const base = this.base;
    if (m && base && now - base.at >= ETA_AFTER_MS && m.done > base.done && m.done < m.total) {
      const rate = (m.done - base.done) / (now - base.at);
      text += `  ${eta((m.total - m.done) / rate)}`;
    }
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    if (text.length > width) text = `${text.slice(0, width - 1)}…`;
    this.stream.write(`\r\x1b[2K${this.style.dim(text)}`);
    this.shown = true;
  }

  /** Erases the line if one is drawn; the next `update` draws afresh. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
    this.lastDraw = -Infinity;
  }
}
