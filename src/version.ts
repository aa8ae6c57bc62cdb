import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The package version, from the nearest package.json above this module (dist/, dist/cli-bundle/ or src/). */
export function dbfastVersion(): string {
  if (cached === undefined) {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    for (;;) {
      const candidate = path.join(dir, 'package.json');
      if (existsSync(candidate)) {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version: string };
        if (pkg.name === 'dbfast') {
          cached = pkg.version;
          break;
        }
      }
      const parent = path.dirname(dir);
      if (parent === dir) {
        cached = '0.0.0';
        break;
      }
      dir = parent;
    }
  }
  return cached;
}
