import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Pulumi's mock runtime is process-global: one file per fork, isolated.
    pool: 'forks',
    isolate: true,
    testTimeout: 60_000,
    // A deployment under mocks in beforeAll loads azure-native's modules: seconds on a busy 2-core
    // machine, more than vitest's default 10 s hook limit (two suites timed out in a loaded CI run).
    hookTimeout: 120_000,
  },
})
