// Lint: type-aware rules that catch what tsc does not (unawaited promises above all).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'console/**', 'load/**', 'postman/**', 'infra/**', 'docs/**', '**/*.mjs', '**/*.js'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      'no-console': 'off',
    },
  },
  {
    // Every publish goes through @ca/outbox (enqueue in the transaction of the state change, relay
    // publishes): nothing else calls a kafkajs producer. Tests may, to write records straight to a topic.
    files: ['**/*.ts'],
    ignores: ['packages/outbox/**', '**/test/**', 'packages/testing/**'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.property.name=/^(send|sendBatch)$/][callee.object.name=/[pP]roducer$/]", message: 'Publish through @ca/outbox (enqueue in the same transaction), not producer.send.' },
        { selector: "CallExpression[callee.property.name=/^(send|sendBatch)$/][callee.object.property.name=/[pP]roducer$/]", message: 'Publish through @ca/outbox (enqueue in the same transaction), not producer.send.' },
        { selector: "CallExpression[callee.property.name='sendBatch']", message: 'Publish through @ca/outbox, not sendBatch.' },
      ],
    },
  },
);
