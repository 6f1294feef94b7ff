// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '**/*.js', '**/*.mjs', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      // Layering (DESIGN.md): lower layers never import upward; sim/ imports only core/.
      'no-restricted-imports': 'off',
    },
  },
  {
    // The request path: `{ ...obj, key }` makes a new hidden class per object in Node 20's V8
    // (src/core/objects.ts); use copyWith, or fill a literal in order.
    files: ['src/{core,backends,fleet,gateway,sim}/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ObjectExpression > SpreadElement:first-child ~ *',
          message:
            'An object literal that starts with a spread and adds keys gets a new hidden class per object in V8: use copyWith (src/core/objects.ts) or fill a literal in order.',
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', '!../core/*'], message: 'core/ imports nothing above it' }] },
      ],
    },
  },
  {
    files: ['src/sim/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../config/*',
                '../backends/*',
                '../fleet/*',
                '../cli/*',
                '../gateway/*',
                '../bench/*',
                '../batch/*',
                '../dashboard/*',
              ],
              message: 'sim/ imports core/ only (DESIGN.md)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../backends/*',
                '../fleet/*',
                '../cli/*',
                '../sim/*',
                '../gateway/*',
                '../bench/*',
                '../batch/*',
                '../dashboard/*',
              ],
              message: 'config/ imports core/ only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/backends/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../fleet/*',
                '../cli/*',
                '../sim/*',
                '../gateway/*',
                '../bench/*',
                '../batch/*',
                '../dashboard/*',
              ],
              message: 'backends/ imports core/ and config/ only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
