// Lint: typescript-eslint's recommended rules plus the module boundaries of DESIGN.md §2.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';

const modules = ['core', 'events', 'sources', 'sql', 'warehouse', 'analyses', 'governance', 'reports', 'demo', 'library', 'cli', 'test-support', 'bench'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'templates/**', 'demo-workspace/**', 'bench-data/**', 'test/scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': [
        ...modules.map((m) => ({ type: m, pattern: `src/${m}/**`, mode: 'full' })),
        { type: 'types', pattern: 'src/types/**', mode: 'full' },
        { type: 'entry', pattern: 'src/index.ts', mode: 'full' },
      ],
      'import/resolver': { typescript: true, node: { extensions: ['.ts', '.js'] } },
    },
    rules: {
      'boundaries/element-types': [
        'error',
        {
          default: 'disallow',
          message: '${file.type} may not import ${dependency.type} (DESIGN.md §2 module boundaries)',
          rules: [
            { from: 'core', allow: ['core'] },
            { from: 'events', allow: ['core', 'events'] },
            { from: 'sources', allow: ['core', 'events', 'sources'] },
            { from: 'sql', allow: ['core', 'sql'] },
            { from: 'warehouse', allow: ['core', 'events', 'sql', 'sources', 'governance', 'warehouse'] },
            { from: 'analyses', allow: ['core', 'events', 'sql', 'analyses'] },
            { from: 'governance', allow: ['core', 'events', 'sql', 'governance'] },
            { from: 'demo', allow: ['core', 'events', 'demo'] },
            { from: 'reports', allow: ['core', 'events', 'sql', 'warehouse', 'analyses', 'governance', 'sources', 'reports', 'library'] },
            { from: 'library', allow: ['core', 'events', 'sql', 'sources', 'warehouse', 'analyses', 'governance', 'reports', 'demo', 'library'] },
            { from: 'bench', allow: ['core', 'events', 'sql', 'sources', 'warehouse', 'analyses', 'demo', 'library', 'reports', 'bench'] },
            { from: 'cli', allow: ['core', 'events', 'sql', 'sources', 'warehouse', 'analyses', 'governance', 'reports', 'demo', 'library', 'cli'] },
            { from: 'entry', allow: ['core', 'events', 'sources', 'warehouse', 'analyses', 'governance', 'reports', 'library'] },
            { from: 'test-support', allow: modules.filter((m) => m !== 'cli') },
          ],
        },
      ],
    },
  },
  // Packages that only some commands need are loaded on first use (`await import`): statically imported, every
  // command, `--version` included, would pay their loading at start (docs/performance.md "Start-up").
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/test-support/**', 'src/**/__fixtures__/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['vega', 'vega-lite', 'postman-collection', '@google-cloud/bigquery', 'chdb', '@aws-sdk/client-s3'].map((name) => ({
            name,
            allowTypeImports: true,
            message: `${name} is loaded on first use (await import): a static import slows the start of every command`,
          })),
        },
      ],
    },
  },
  // Tests may reach into test-support and any module they exercise.
  { files: ['src/**/*.test.ts', 'src/test-support/**'], rules: { 'boundaries/element-types': 'off' } },
  { files: ['bin/**/*.js', '.ci/**/*.mjs', '*.js', '*.ts'], languageOptions: { globals: globals.node } },
);
