// Lint with types: floating promises and non-exhaustive switches are bugs in queue code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.data/**', 'coverage/**', '**/*.js', '**/*.mjs', 'packages/web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The web app's files are typed by packages/web/tsconfig.json, the nearest one (projectService finds it).
    files: ['**/*.ts', '**/*.mts', 'packages/web/**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'off',
    },
  },
  {
    // Layers: a service builds its connections (PostgreSQL, Redis, storage, billing, threads,
    // the logger) in main.ts and app.ts and wraps them in adapters; services, handlers and routes
    // receive them and name only their types. Errors and stateless helpers stay importable.
    files: ['services/*/src/**/*.ts'],
    ignores: [
      'services/*/src/main.ts', 'services/*/src/app.ts', 'services/*/src/composition.ts', 'services/*/src/config.ts', 'services/*/src/adapters/**',
      'services/billing/src/ledger/**', 'services/processor/src/render/render-pool.ts', 'services/processor/src/render/render-thread.ts',
      '**/*.spec.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [{
          name: '@masterpost/platform',
          allowTypeImports: true,
          importNames: [
            'createPool', 'withTransaction', 'queryWithRetry', 'createRedis', 'createStorage', 'createSupabaseClient', 'BillingClient',
            'createLogger', 'ThreadPool', 'Slots', 'handleShutdown', 'startOpsServer', 'opsMiddleware', 'loadConfigOrExit',
          ],
          message: 'connections and process wiring are built in main.ts/app.ts and wrapped in adapters; import only the type here',
        }],
      }],
    },
  },
);
