import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskUsage } from '../../src/server/status.js';
import { tempDir } from '../support/files.js';

describe('the size `server status` and `server destroy` report', () => {
  it('is what du counts: allocated blocks, a hard-linked file once, a sparse file by what it holds', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'base', '1'), { recursive: true });
    writeFileSync(path.join(dir, 'base', '1', 'rel'), Buffer.alloc(1024 * 1024, 7));
    linkSync(path.join(dir, 'base', '1', 'rel'), path.join(dir, 'base', 'link-a'));
    linkSync(path.join(dir, 'base', '1', 'rel'), path.join(dir, 'link-b'));
    writeFileSync(path.join(dir, 'sparse'), '');
    truncateSync(path.join(dir, 'sparse'), 64 * 1024 * 1024);
    const du = Number(execFileSync('du', ['-sB1', dir], { encoding: 'utf8' }).split('\t')[0]);
    expect(await diskUsage(dir)).toBe(du);
    // Counted once across folders too (destroy passes one set for all it removes).
    const seen = new Set<string>();
    expect((await diskUsage(path.join(dir, 'base'), seen)) + (await diskUsage(dir, seen))).toBe(du);
  });
});
