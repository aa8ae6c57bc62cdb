import { describe, expect, it } from 'vitest';
import { colorLevel, duration, makeStyle, table, visibleLength, when } from '../../src/cli/render/format.js';
import { ProgressLine, progressText } from '../../src/cli/render/progress.js';

describe('colour decision', () => {
  const cases: Array<{ name: string; flag?: boolean; isTTY: boolean; env: Record<string, string>; level: number }> = [
    { name: 'a terminal', isTTY: true, env: { TERM: 'xterm' }, level: 1 },
    { name: 'a 256-colour terminal', isTTY: true, env: { TERM: 'xterm-256color' }, level: 2 },
    { name: 'a truecolor terminal', isTTY: true, env: { TERM: 'xterm', COLORTERM: 'truecolor' }, level: 3 },
    { name: 'a pipe', isTTY: false, env: { TERM: 'xterm' }, level: 0 },
    { name: 'TERM=dumb', isTTY: true, env: { TERM: 'dumb' }, level: 0 },
    { name: 'NO_COLOR=1 on a terminal', isTTY: true, env: { TERM: 'xterm', NO_COLOR: '1' }, level: 0 },
    { name: 'NO_COLOR empty (not set, per no-color.org)', isTTY: true, env: { TERM: 'xterm', NO_COLOR: '' }, level: 1 },
    { name: '--no-color on a terminal', flag: false, isTTY: true, env: { TERM: 'xterm' }, level: 0 },
    { name: 'FORCE_COLOR=1 into a pipe', isTTY: false, env: { FORCE_COLOR: '1' }, level: 1 },
    { name: 'FORCE_COLOR=3 into a pipe', isTTY: false, env: { FORCE_COLOR: '3' }, level: 3 },
    { name: 'FORCE_COLOR empty', isTTY: false, env: { FORCE_COLOR: '' }, level: 1 },
    { name: 'FORCE_COLOR=0 on a terminal', isTTY: true, env: { TERM: 'xterm', FORCE_COLOR: '0' }, level: 0 },
    { name: 'FORCE_COLOR=false on a terminal', isTTY: true, env: { TERM: 'xterm', FORCE_COLOR: 'false' }, level: 0 },
    { name: 'FORCE_COLOR beats NO_COLOR', isTTY: false, env: { FORCE_COLOR: '1', NO_COLOR: '1' }, level: 1 },
    { name: '--no-color beats FORCE_COLOR', flag: false, isTTY: true, env: { FORCE_COLOR: '1' }, level: 0 },
  ];
  it.each(cases)('$name -> level $level', ({ flag, isTTY, env, level }) => {
    expect(colorLevel({ flag: flag ?? true, isTTY, env })).toBe(level);
  });
});

describe('format', () => {
  it('writes timestamps and durations one way', () => {
    expect(when('2025-06-02T09:14:02.123Z')).toBe('2025-06-02 09:14:02Z');
    expect(duration(840.4)).toBe('840 ms');
    expect(duration(17_049)).toBe('17.0 s');
    expect(duration(null)).toBe('-');
  });

  it('pads table columns by what shows, so coloured cells and headers line up', () => {
    const style = makeStyle(1);
    const text = table(style, ['NAME', 'STATE', 'EMPTY'], [['a', 'ok', ''], ['long-name', 'FAILED', '']], { cell: (cell, column) => (column === 1 ? style.status(cell) : cell) });
    const lines = text.split('\n');
    expect(lines[0]).toBe(`${style.header('NAME')}       ${style.header('STATE')}`);
    expect(lines[1]).toBe(`a          ${style.good('ok')}`);
    expect(lines[2]).toBe(`long-name  ${style.bad('FAILED')}`);
    expect(lines.map(visibleLength)).toEqual([16, 13, 17]);
  });
});

/** A stream double that records what a progress line writes (the terminal itself is tested in terminal.test.ts). */
function recorder(columns = 80): { writes: string[]; stream: { columns: number; write(text: string): boolean } } {
  const writes: string[] = [];
  return { writes, stream: { columns, write: (text: string) => writes.push(text) > 0 } };
}

describe('progress line', () => {
  it('says rows and bytes of a long COPY inside a file count', () => {
    expect(progressText({ phase: 'sql', done: 0, total: 2, unit: 'files', detail: 'data/big.sql', rows: 812_345, bytes: 52 * 1024 * 1024, totalBytes: 150 * 1024 * 1024 })).toBe(
      'sql  0 / 2 files  data/big.sql  812,345 rows  52.0 MiB / 150.0 MiB',
    );
    expect(progressText({ phase: 'restore', done: 1500, total: 4000, unit: 'rows', item: 'public.film', bytes: 2048 })).toBe('restore  1,500 / 4,000 rows  public.film  2.0 KiB');
  });

  it('adds an ETA once a step with a total has run 2 s, redraws at most every 100 ms, and clears itself', () => {
    let now = 0;
    const { writes, stream } = recorder();
    const line = new ProgressLine(stream, makeStyle(0), () => now);
    line.update({ phase: 'restoring', done: 0, total: 1000, unit: 'bytes' });
    now = 50;
    line.update({ phase: 'restoring', done: 10, total: 1000, unit: 'bytes' });
    expect(writes).toHaveLength(1);
    now = 2000;
    line.update({ phase: 'restoring', done: 250, total: 1000, unit: 'bytes' });
    // 250 bytes in 2 s: 750 more take 6 s.
    expect(writes.at(-1)).toBe('\r\x1b[2Krestoring  250 B / 1000 B  eta 6 s');
    line.clear();
    expect(writes.at(-1)).toBe('\r\x1b[2K');
    line.clear();
    expect(writes).toHaveLength(3);
  });

  it('restarts the ETA for each COPY (a new total) and never wraps: a wrapped line cannot be erased', () => {
    let now = 0;
    const { writes, stream } = recorder(30);
    const line = new ProgressLine(stream, makeStyle(0), () => now);
    line.update({ phase: 'sql', done: 0, total: 2, unit: 'files', bytes: 0, totalBytes: 100 });
    now = 3000;
    line.update({ phase: 'sql', done: 1, total: 2, unit: 'files', bytes: 0, totalBytes: 900 });
    expect(writes.at(-1)).not.toContain('eta');
    for (const text of writes) expect(text.replace('\r\x1b[2K', '').length).toBeLessThanOrEqual(29);
  });
});
