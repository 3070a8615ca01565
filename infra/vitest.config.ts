import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Pulumi's mock runtime is process-global: one file per fork, isolated.
    pool: 'forks',
    isolate: true,
    testTimeout: 60_000,
  },
})
