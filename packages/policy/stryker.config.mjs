// Mutation testing of the evaluator (issue #16 item 12). Not part of `pnpm test`: a full run takes
// minutes on two cores. Run with `pnpm mutation`; the summary lands in reports/.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // pnpm does not hoist the runner next to core, so name it rather than rely on the default glob.
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.config.ts' },
  // In place: the tests read ../../examples, which a sandbox copy of this package would not have.
  inPlace: true,
  // The whole package; `pnpm exec stryker run --mutate src/evaluate.ts` narrows a run to one file.
  mutate: ['src/**/*.ts', '!src/index.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  reporters: ['clear-text', 'json', 'progress'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
}
