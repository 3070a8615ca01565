import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['contract/**/*.test.ts', 'e2e/**/*.test.ts', 'faults/**/*.test.ts', 'bad-input/**/*.test.ts'],
    pool: 'forks',
    // E2E files mostly wait on the Identity Protection pace (1 request/s), not on the CPU.
    maxWorkers: 4,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
