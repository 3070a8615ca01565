import { defineConfig } from 'vitest/config'

// The tests Stryker runs per mutant (stryker.config.mjs): unit tests over fakes of the Graph client,
// each file in milliseconds. `pnpm test` runs them too, with everything else (vitest.config.ts).
export default defineConfig({
  test: {
    // approvals.test.ts: the gate and the trails' records, pure or on a temporary folder.
    include: ['test/unit/**/*.test.ts', 'test/approvals.test.ts'],
    testTimeout: 5_000,
  },
})
