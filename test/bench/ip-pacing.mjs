// The Identity Protection pacing of `pnpm bench`'s scenario alone (no naive baseline, no Defender
// lookups), to count 429s quickly:
//   node test/bench/ip-pacing.mjs [N=10000] [SCALE=10] [CLI=apps/runner/bundle/cli.mjs]
// Same tenant, policy, mock latency, budgets and node flags as bench.mjs. Prints one JSON line
// (Identity Protection requests and 429s as the mock counted them, the smallest gap between two
// arrivals, the mock's event-loop delay), then, for each 429, the arrivals around it.
import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createMockGraph, generateTenant, serveMock } from '@tourniquet/mock-graph'
import { jobSetup } from './job.mjs'

const N = Number(process.argv[2] ?? 10_000)
const SCALE = Number(process.argv[3] ?? 10)
const CLI = process.argv[4] ?? join(import.meta.dirname, '../../apps/runner/bundle/cli.mjs')
const POLICY =
  'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 1000000\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [confirmCompromised, revokeSessions]\n'

const mock = createMockGraph({
  tenant: generateTenant({ riskyUsers: N, seed: 1, highShare: 1, detectionsPerUser: [1, 3] }),
  timeScale: SCALE,
  faults: { latencyMs: 20 },
})
const server = await serveMock(mock)
const { dir, env } = await jobSetup(server, POLICY, SCALE)
// The mock stamps arrivals on this process's event loop: its delays are the mock's error in judging.
const loop = monitorEventLoopDelay({ resolution: 5 })
loop.enable()
const started = performance.now()
const child = spawn(
  process.execPath,
  ['--max-semi-space-size=4', '--heap-growing-percent=50', CLI, 'run', '--apply'],
  { env, stdio: 'ignore' },
)
const code = await new Promise((r) => child.on('close', r))
const wallMs = Math.round(performance.now() - started)
const ip = mock.log.filter((l) => l.path.includes('/identityProtection/'))
const rows = ip.map((l, i) => ({
  gap: i === 0 ? null : l.time - (ip[i - 1]?.time ?? 0),
  status: l.status,
  path: l.path,
  batch: l.batchId,
}))
const refused = rows.flatMap((r, i) => (r.status === 429 ? [i] : []))
console.log(
  JSON.stringify({
    n: N,
    scale: SCALE,
    exitCode: code,
    wallMs,
    identityProtectionRequests: ip.length,
    identityProtection429: refused.length,
    all429: mock.log.filter((l) => l.status === 429).length,
    mockLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    minGapMs: Math.min(...rows.slice(1).map((r) => r.gap ?? Number.POSITIVE_INFINITY)),
  }),
)
for (const i of refused) console.log(JSON.stringify(rows.slice(Math.max(0, i - 2), i + 2)))
await server.close()
await rm(dir, { recursive: true, force: true })
