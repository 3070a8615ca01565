// Mutation testing of the runner's decision code (issue #23). Not part of `pnpm test` and not run by
// CI. Run with `pnpm mutation`; the summary lands in reports/.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // pnpm does not hoist the runner next to the app, so name it rather than rely on the default glob.
  plugins: ['@stryker-mutator/vitest-runner'],
  // Only the fast unit tests (test/unit, fakes of the client, no sockets): the engine tests run a
  // loopback Graph and take seconds each, far too slow to run per mutant.
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // In a sandbox copy: the unit tests read nothing outside the package, and src stays editable
  // while a run is going.
  inPlace: false,
  // The files issue #23 sets targets for. `pnpm exec stryker run --mutate src/resume.ts` narrows a
  // run to one file.
  mutate: [
    'src/engine/resume.ts',
    'src/evidence/state.ts',
    'src/evidence/read.ts',
    'src/engine/fresh.ts',
    'src/approvals/gate.ts',
    'src/approvals/records.ts',
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
