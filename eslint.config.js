import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.batchline/**', '**/coverage/**', '**/test-results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Ports and adapters: a package uses another only through its public exports.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Public subpath exports (package.json "exports") are entry points too.
              group: ['@batchline/*/*', '!@batchline/pipeline/demo'],
              message: 'Import a batchline package only from its public entry points.',
            },
            { group: ['../../*/src/*', '../../../packages/*/src/*'], message: 'Do not reach into another package\'s src/.' },
          ],
        },
      ],
    },
  },
);
