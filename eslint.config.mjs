// The linter: typescript-eslint's recommended rules on the core, the tests and the benches.
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['dist/**', 'node_modules/**', 'native/**', 'runs/**', 'notebooks/**'] }, ...tseslint.configs.recommended, {
  files: ['**/*.ts'],
  rules: {
    // Unused names are the compiler's job (noUnusedLocals/Parameters); `_name` marks an intended one.
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
  },
});
