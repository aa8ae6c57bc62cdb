const CHUNK = /(\d+)|(\D+)/g;

function chunks(text: string): string[] {
  return text.match(CHUNK) ?? [];
}

function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Natural order for one name: `2_x` before `10_x`. Text compares by code unit, never by
 * locale, so every machine runs files in the same order.
 */
export function compareNatural(a: string, b: string): number {
  const left = chunks(a);
  const right = chunks(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] as string;
    const y = right[i] as string;
    const xDigit = /^\d/.test(x);
    const yDigit = /^\d/.test(y);
    let order: number;
    if (xDigit && yDigit) order = compareDigits(x, y);
    else if (xDigit !== yDigit) order = xDigit ? -1 : 1;
    else order = x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  if (left.length !== right.length) return left.length - right.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares relative paths segment by segment, so a folder's files stay together. */
export function comparePaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = compareNatural(left[i] as string, right[i] as string);
    if (order !== 0) {
      // A file and a folder at the same level: natural order of their names still decides.
      return order;
    }
  }
  return left.length - right.length;
}
