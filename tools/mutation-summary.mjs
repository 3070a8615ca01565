// Run from a package folder by its `mutation` script (packages/policy, packages/core, apps/runner).
// Reduces Stryker's full report (reports/mutation/mutation.json, not committed: megabytes) to the
// summary that is: per-file scores and every surviving or uncovered mutant, one line each.
import { readFileSync, writeFileSync } from 'node:fs'

const report = JSON.parse(readFileSync('reports/mutation/mutation.json', 'utf8'))
const DETECTED = new Set(['Killed', 'Timeout'])
const UNDETECTED = new Set(['Survived', 'NoCoverage'])
const files = {}
const total = { detected: 0, undetected: 0 }
for (const [name, file] of Object.entries(report.files)) {
  const lines = file.source.split('\n')
  const tally = { detected: 0, undetected: 0, ignored: 0 }
  const survivors = []
  for (const m of file.mutants) {
    if (DETECTED.has(m.status)) tally.detected++
    else if (UNDETECTED.has(m.status)) {
      tally.undetected++
      const line = m.location.start.line
      survivors.push({
        line,
        status: m.status,
        mutator: m.mutatorName,
        replacement: m.replacement ?? null,
        source: (lines[line - 1] ?? '').trim().slice(0, 160),
      })
    } else tally.ignored++
  }
  total.detected += tally.detected
  total.undetected += tally.undetected
  const valid = tally.detected + tally.undetected
  files[name] = {
    score: valid === 0 ? null : Math.round((1000 * tally.detected) / valid) / 10,
    ...tally,
    survivors: survivors.sort((a, b) => a.line - b.line),
  }
}
const valid = total.detected + total.undetected
const summary = {
  generatedAt: new Date().toISOString(),
  mutated: Object.keys(files),
  score: valid === 0 ? null : Math.round((1000 * total.detected) / valid) / 10,
  ...total,
  files,
}
writeFileSync('reports/mutation-summary.json', `${JSON.stringify(summary, null, 2)}\n`)
for (const [name, f] of Object.entries(files))
  console.log(`${String(f.score).padStart(5)}%  ${name}  (${f.detected} detected, ${f.undetected} not)`)
console.log(`${String(summary.score).padStart(5)}%  all files`)
