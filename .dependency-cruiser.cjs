/**
 * dependency-cruiser rules for src/ (run by `npm test` through `npm run deps`):
 * - no import cycles, type-only imports included;
 * - every import points down the module order of DESIGN.md (a module never imports one above it);
 * - src/cli/ reaches the library only through index.ts, errors.ts and logger.ts (not src/api/,
 *   whose functions index.ts re-exports as the public surface).
 */

/**
 * DESIGN.md's modules, top to bottom: each may import only those after it. Files directly in src/
 * count as modules. `api` is index.ts's own: the library functions it re-exports, split by module.
 */
const ORDER = ['cli', 'index.ts', 'api', 'doctor', 'webhook', 'deploy', 'migrate', 'backup', 'replace', 'history', 'remote', 'validate', 'local', 'pool', 'server', 'sql', 'archive', 'project', 'config', 'pg', 'failure', 'cleanup.ts', 'version.ts', 'logger.ts', 'errors.ts'];

const escape = (name) => name.replace(/\./g, '\\.');
/** The path pattern of a module: a folder (`src/deploy/...`) or a file (`src/index.ts`). */
const modulePath = (name) => (name.endsWith('.ts') ? `^src/${escape(name)}$` : `^src/${name}/`);

const layering = ORDER.slice(1).map((name, index) => ({
  name: `down-only-${name.replace('.ts', '')}`,
  comment: `${name} is below ${ORDER.slice(0, index + 1).join(', ')} in DESIGN.md: it must not import them`,
  severity: 'error',
  from: { path: modulePath(name) },
  to: { path: ORDER.slice(0, index + 1).map(modulePath) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles make load order and ownership unclear (DESIGN.md: every arrow points down).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'cli-through-index',
      comment: 'src/cli imports nothing from src/ but index.ts, errors.ts and logger.ts (DESIGN.md): the library API is the whole door (src/api/ only behind index.ts).',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/', pathNot: ['^src/cli/', '^src/index\\.ts$', '^src/errors\\.ts$', '^src/logger\\.ts$'] },
    },
    {
      name: 'known-module',
      comment: 'A new top-level module of src/ needs its place in the order above (and in DESIGN.md).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: ORDER.map(modulePath) },
    },
    ...layering,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
