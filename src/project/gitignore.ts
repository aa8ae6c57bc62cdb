import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What `dbfast init` did to the project's .gitignore. */
export interface GitignoreChange {
  path: string;
  /** created: there was none; added: `.dbfast/` appended; present: it was ignored already. */
  action: 'created' | 'added' | 'present';
}

const ENTRY = '.dbfast/';
/** Lines that already ignore the whole `.dbfast` folder at the top of the project. */
const ALREADY = new Set(['.dbfast', '.dbfast/', '/.dbfast', '/.dbfast/', '.dbfast/*', '/.dbfast/*', '.dbfast/**', '/.dbfast/**']);

/**
 * `.dbfast/` holds dumps of databases (local backups, deploy work files): it must never be
 * committed. Adds it to `<dir>/.gitignore`, creating the file when missing; keeps the rest.
 */
export function ignoreDbfastFolder(dir: string): GitignoreChange {
  const file = path.join(dir, '.gitignore');
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined && text.split(/\r?\n/).some((line) => ALREADY.has(line.trim()))) return { path: file, action: 'present' };
  const block = `# dbfast: local backups and deploy work files (dumps of databases)\n${ENTRY}\n`;
  if (text === undefined) {
    writeFileSync(file, block, { flag: 'wx' });
    return { path: file, action: 'created' };
  }
  writeFileSync(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${block}`);
  return { path: file, action: 'added' };
}
