/**
 * Runs one SQL file in-process in a process of its own and prints the result and how much the
 * peak resident size grew during the run (measured after start-up and connecting), for
 * stream.test.ts: `node --import tsx memory-child.ts URL FILE`.
 */
import pg from 'pg';
import { targetFromUrl } from '../../src/pg/target.js';
import { runFiles } from '../../src/sql/index.js';

const [url, file] = process.argv.slice(2) as [string, string];
const client = new pg.Client({ connectionString: url });
await client.connect();
await client.query('SELECT 1');
const before = process.resourceUsage().maxRSS;
const result = await runFiles([{ relativePath: 'big.sql', absolutePath: file }], { target: targetFromUrl(url), client });
await client.end();
console.log(JSON.stringify({ result, growthKiB: process.resourceUsage().maxRSS - before }));
