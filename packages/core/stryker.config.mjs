// Mutation testing of core (issue #23). Not part of `pnpm test` and not run by CI: a full run takes
// many minutes on two shared cores. Run with `pnpm mutation`; the summary lands in reports/.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // pnpm does not hoist the runner next to core, so name it rather than rely on the default glob.
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.config.ts' },
  // In a sandbox copy (not in place, unlike the policy package): core's tests read nothing outside
  // the package, and src stays editable while a run is going. test/extraCaCerts.test.ts runs dist/.
  inPlace: false,
  // The files issue #23 sets targets for. `pnpm exec stryker run --mutate src/internal/paging.ts`
  // narrows a run to one file.
  mutate: [
    'src/internal/sanitizer.ts',
    'src/internal/paging.ts',
    'src/internal/resources/batch.ts',
    'src/internal/pipeline/throttlePolicy.ts',
    'src/internal/pipeline/retryStrategies.ts',
    'src/internal/auth/*.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  reporters: ['clear-text', 'json', 'progress'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
}
