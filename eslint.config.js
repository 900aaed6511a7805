// ESLint flat config: type-aware rules from typescript-eslint over every TypeScript file.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.jest-cache/**',
      'coverage/**',
      '**/.kubectl/**',
      'bench/.work/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-console': 'off',
    },
  },
  {
    // The sandbox and tests handle loosely typed Kubernetes/AWS JSON on purpose.
    files: ['packages/sandbox/**/*.ts', '**/test/**/*.ts', 'scripts/bench-*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The layering (docs/architecture.md): packages/core beneath everything; kube, aws and the CLI never
    // import action-kit (the runner layer), and only action-kit talks to the runner through @actions/core.
    files: ['packages/core/**/*.ts', 'packages/kube/**/*.ts', 'packages/aws/**/*.ts', 'packages/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@planner-deploy/action-kit',
              message: 'kube, aws, core and the CLI never import action-kit: use @planner-deploy/core.',
            },
            { name: '@actions/core', message: 'Only packages/action-kit speaks to the runner.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@planner-deploy/*', '@actions/*', '@aws-sdk/*', '@kubernetes/*'],
              message: 'packages/core stands on nothing but Node.',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'actions/**/*.ts',
      'packages/sandbox/**/*.ts',
      'packages/runner-harness/**/*.ts',
      'scripts/**/*.ts',
      'test/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@actions/core',
              message: 'Only packages/action-kit speaks to the runner: use @planner-deploy/action-kit.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'URL',
          'Buffer',
          'performance',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
