import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.dbfast/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**', 'bin/**', 'bench/**', 'tests/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  // The CLI's only doors into the library: index.ts, errors.ts, logger.ts (DESIGN.md); src/api/
  // holds the functions index.ts re-exports and is reached through index.ts only. Static
  // imports and `export ... from` by no-restricted-imports, `await import(...)` by the syntax rule;
  // dependency-cruiser (npm run deps) checks the same on the resolved graph.
  ...cliBoundary('src/cli/*.ts', '\\.\\./'),
  ...cliBoundary('src/cli/*/*.ts', '\\.\\./\\.\\./'),
);

/** The boundary rule for CLI files at one depth: `up` is the relative prefix that leaves src/cli/. */
function cliBoundary(files, up) {
  const regex = `^${up}(?!(index|errors|logger)\\.js$)`;
  const message = 'src/cli imports nothing from src/ but index.ts, errors.ts and logger.ts: export what the CLI needs from src/index.ts (src/api/ included).';
  return [
    {
      files: [files],
      rules: {
        'no-restricted-imports': ['error', { patterns: [{ regex, message }] }],
        'no-restricted-syntax': ['error', { selector: `ImportExpression[source.value=/${regex.replace(/\//g, '\\/')}/]`, message }],
      },
    },
  ];
}
