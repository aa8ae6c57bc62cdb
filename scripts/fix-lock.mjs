// Adds lock entries for optional platform packages (other OSes/CPUs) that the package registry
// reachable from our machines does not serve; without them `npm ci` rejects the lock as out of sync.
// Run after every `npm install <pkg>`: node scripts/fix-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';
const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries(pkgs)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = key ? `${key}/node_modules/${name}` : `node_modules/${name}`;
    if (pkgs[base] || pkgs[`node_modules/${name}`]) continue;
    pkgs[`node_modules/${name}`] = { version: range.replace(/^[\^~]/, ''), dev: entry.dev || undefined, optional: true };
    added++;
  }
}
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added}`);
