import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests that open sockets run in forks so one file's interception never leaks into another's.
    pool: 'forks',
    testTimeout: 20_000,
    // Test keys and certificates, made once before any file runs (see the file for why).
    globalSetup: ['test/support/pki.ts'],
  },
})
