export interface TableOptions {
  /** Column indexes to right-align (numbers). */
  alignRight?: number[];
}

/** A plain-text table: a header row and columns padded to their widest cell; empty trailing columns dropped. */
export function table(header: string[], rows: string[][], options: TableOptions = {}): string {
  const used = header.map((_, column) => rows.some((row) => (row[column] ?? '') !== ''));
  const keep = header.map((_, column) => column).filter((column) => used[column] || column === 0);
  const widths = keep.map((column) => Math.max((header[column] ?? '').length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (cells: string[]): string =>
    keep
      .map((column, index) => {
        const cell = cells[column] ?? '';
        const width = widths[index] as number;
        return options.alignRight?.includes(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [render(header), ...rows.map(render)].join('\n');
}
