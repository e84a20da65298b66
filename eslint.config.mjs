import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const ROOT = import.meta.dirname;
const FEATURES = 'apps/server/src/features';

/**
 * A feature (apps/server/src/features/<name>/) imports nothing from another feature's folder: features
 * talk through the decorators and interfaces they expose (docs/ARCHITECTURE.md).
 */
function featureBoundaries() {
  const zones = readdirSync(join(ROOT, FEATURES), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map(({ name }) => ({
      target: `${FEATURES}/${name}`,
      from: FEATURES,
      except: [`./${name}`],
      message: `The ${name} feature may not import another feature's files: use the decorator or interface that feature exposes.`,
    }));
  return ['error', { basePath: ROOT, zones }];
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.data/**', 'coverage/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.mts', '.js', '.mjs', '.cjs', '.json'] })],
    },
    rules: {
      // Workspace packages import each other by name (`@chat/testkit`, or a subpath their package.json
      // exports), never by a relative path into another package's folder.
      'import-x/no-relative-packages': ['error', { commonjs: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'No `export *`: export names explicitly.' },
      ],
    },
  },
  {
    // Artillery loads a processor by its path next to the scenarios; this CommonJS shim is the one bridge
    // from artillery/ (outside every workspace package) to @chat/bench's TypeScript processor.
    files: ['artillery/processor.cjs'],
    rules: { 'import-x/no-relative-packages': 'off' },
  },
  {
    files: [`${FEATURES}/**/*.ts`],
    rules: { 'import-x/no-restricted-paths': featureBoundaries() },
  },
  {
    // Plain CommonJS files loaded with `node --require` (before any TypeScript loader).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/test/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only', message: 'No focused tests.' },
        { object: 'describe', property: 'only', message: 'No focused tests.' },
        { object: 'test', property: 'only', message: 'No focused tests.' },
      ],
    },
  },
);
