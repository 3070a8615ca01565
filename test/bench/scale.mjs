// The scale scenario of issue #24: 100,000 stale at-risk users (risk nobody dismissed; medium and
// low, so the policy, which acts on high, acts on none of them) with 1-3 detections each, the mock
// at 10x Graph's pace as the 10,000-user row of `pnpm bench`. Three runs of the job as the image
// runs it (the bundle, the container's node flags), one after the other:
// 1. the first full collection (no state yet): wall time against its Identity Protection bound
//    (every page at 1 request/s, counted as the mock serves them) and peak RSS;
// 2. a quiet incremental run right after: wall, CPU, peak RSS, state bytes read and written, the
//    time the run spent reading, checking and writing the state, Identity Protection requests;
// 3. a quiet run that saves the state (a short overlap moves its watermarks past half of it), as
//    a job does every few minutes.
// Then a watcher (`tourniquet watch`) for WATCH_SECONDS at a run every second, to measure CPU per
// quiet watch run; the cost per day (a run every 15 s) is that times 5,760.
//
// Usage (from the repo root): node_modules/.bin/node test/bench/scale.mjs
// Knobs: SCALE_USERS (sizes, default 10000,100000; each size's results replace that size's in
// results/scale.json), SCALE_SPEED (10), SCALE_WATCH_SECONDS (40).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createMockGraph, generateTenant, pageCount, serveMock } from '@tourniquet/mock-graph'
import { finished, jobSetup } from './job.mjs'

const SIZES = (process.env.SCALE_USERS ?? '10000,100000').split(',').map(Number)
const SPEED = Number(process.env.SCALE_SPEED ?? 10)
const WATCH_SECONDS = Number(process.env.SCALE_WATCH_SECONDS ?? 40)
const LATENCY_MS = 20
const HOUR = 3_600_000
const ROOT = join(import.meta.dirname, '..', '..')
const RESULTS = join(import.meta.dirname, 'results')
const POLICY =
  'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 1000000\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [confirmCompromised, revokeSessions]\n'

async function containerNodeFlags() {
  const dockerfile = await readFile(join(ROOT, 'apps/runner/Dockerfile'), 'utf8')
  const argv = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]')
  return argv.slice(1, argv.indexOf('bundle/cli.mjs'))
}

/** One `tourniquet run --apply` under /usr/bin/time: wall, CPU (user + system) and peak RSS from the kernel. */
async function run(env, flags, log) {
  const timeFile = `${env.TOURNIQUET_LEDGER}.time.txt`
  const started = performance.now()
  const child = spawn(
    '/usr/bin/time',
    [
      '-f',
      '%e %U %S %M',
      '-o',
      timeFile,
      process.execPath,
      ...flags,
      join(ROOT, 'apps/runner/bundle/cli.mjs'),
      'run',
      '--apply',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const { stdout, code } = await finished(child)
  const wallMs = performance.now() - started
  const [, user, system, maxKb] = readFileSync(timeFile, 'utf8')
    .trim()
    .split('\n')
    .at(-1)
    .split(' ')
    .map(Number)
  const summary = stdout
    .trim()
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l)
      } catch {
        return {}
      }
    })
    .findLast((l) => l.event === 'summary')
  const figures = {
    exitCode: code,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((user + system) * 1000),
    peakRssMb: Math.round(maxKb / 1024),
    collection: summary?.collection,
    identityProtectionRequests: summary?.identityProtectionRequests,
    graphRequests: summary?.graphRequests,
    throttled429: summary?.throttled429,
    evidenceState: summary?.evidenceState,
  }
  log(JSON.stringify(figures))
  return figures
}

/** A watcher for `seconds`, a run every second: CPU per run from the kernel's count for the process. */
async function watchCost(env, flags, seconds, log) {
  const child = spawn(
    process.execPath,
    [...flags, join(ROOT, 'apps/runner/bundle/cli.mjs'), 'watch', '--apply'],
    {
      env: { ...env, TOURNIQUET_WATCH_INTERVAL: 'PT1S' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let runs = 0
  let first
  const states = []
  const ipRequests = []
  let buffer = ''
  child.stdout.on('data', (d) => {
    buffer += d
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf('\n')
      try {
        const record = JSON.parse(line)
        if (record.event === 'summary') {
          runs++
          states.push(record.evidenceState)
          ipRequests.push(record.identityProtectionRequests ?? 0)
          if (runs === 1) first = cpuOf(child.pid)
        }
      } catch {
        // Not a JSON line.
      }
    }
  })
  child.stderr.resume()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const last = cpuOf(child.pid)
  const measured = runs - 1
  child.kill('SIGTERM')
  await new Promise((r) => child.on('close', r))
  const later = states.slice(1)
  const figures = {
    runs: measured,
    cpuMsPerRun: Math.round((last - first) / Math.max(1, measured)),
    stateReadsParsed: later.filter((s) => s?.bytesRead > 0).length,
    stateWrites: later.filter((s) => s?.bytesWritten > 0).length,
    stateMsPerRun: Math.round(later.reduce((a, s) => a + (s?.ms ?? 0), 0) / Math.max(1, later.length)),
    // A quiet watch run reads the changed detections, and the changed risky users every fourth run.
    ipPerRun: Number(
      (ipRequests.slice(1).reduce((a, n) => a + n, 0) / Math.max(1, ipRequests.length - 1)).toFixed(2),
    ),
  }
  log(JSON.stringify(figures))
  return figures
}

/** CPU ms (user + system) of a live process, from /proc (clock ticks of 10 ms). */
function cpuOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

export async function scaleScenario({ users: USERS, log }) {
  const now = Date.now()
  log(`generating ${USERS} stale at-risk users...`)
  const tenant = generateTenant({ riskyUsers: USERS, seed: 3, now: now - 3 * HOUR, highShare: 0 })
  const mock = createMockGraph({ tenant, timeScale: SPEED, faults: { latencyMs: LATENCY_MS } })
  const server = await serveMock(mock)
  const { dir, env } = await jobSetup(server, POLICY, SPEED)
  const flags = await containerNodeFlags()
  const jobEnv = env
  const stateFile = `${env.TOURNIQUET_LEDGER}.evidence.json`
  try {
    log('first full collection...')
    const lookbackStart = Date.now() - 48 * HOUR
    const full = await run(jobEnv, flags, log)
    // What the full collection reads: every detection detected in the lookback.
    const detections = tenant.detections.filter((d) => Date.parse(d.detectedDateTime) >= lookbackStart).length
    const admitted = [...tenant.riskyUsers.values()].filter(
      (u) => u.riskLevel === 'high' && (u.riskState === 'atRisk' || u.riskState === 'confirmedCompromised'),
    ).length
    const ipCalls = pageCount(admitted, 500) + pageCount(detections, 500)
    const boundMs = ((ipCalls - 1) / SPEED) * 1000 + (2 * LATENCY_MS) / SPEED
    const stateBytes = statSync(stateFile).size
    log('quiet incremental run...')
    const quiet = await run(jobEnv, flags, log)
    log('quiet run that saves (watermarks moved)...')
    const saving = await run({ ...jobEnv, TOURNIQUET_OVERLAP: 'PT1S' }, flags, log)
    log(`watch for ${WATCH_SECONDS} s...`)
    const watch = await watchCost(jobEnv, flags, WATCH_SECONDS, log)
    return {
      users: USERS,
      speed: SPEED,
      detections,
      stateBytes,
      full: {
        ...full,
        identityProtectionBoundMs: Math.round(boundMs),
        identityProtectionCalls: ipCalls,
        ratioToBound: Number((full.wallMs / boundMs).toFixed(2)),
      },
      quiet,
      saving,
      watch,
    }
  } finally {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const MB = (bytes) => (bytes / 1_048_576).toFixed(1)

/** The Markdown of results/scale.md: each size's runs, the targets at the largest, and watch mode per day. */
export function scaleMarkdown(results) {
  const yes = (ok) => (ok ? 'met' : '**not met**')
  const lines = [
    `Scale (issue #24): stale at-risk users (medium and low; the policy acts on high) with 1-3 detections each, mock at ${results[0]?.speed ?? SPEED}x Graph's pace, the job as the image runs it; \`node_modules/.bin/node test/bench/scale.mjs\`. Wall, CPU and peak RSS from /usr/bin/time; state bytes and time from the run's summary line (\`evidenceState\`).`,
    '',
    '| users | detections | run | wall | CPU | peak RSS | state read / written | state handling | Identity Protection requests | 429s |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const s of results)
    for (const [name, r] of [
      ['first full collection', s.full],
      ['quiet incremental run', s.quiet],
      ['quiet run that saves', s.saving],
    ])
      lines.push(
        `| ${s.users.toLocaleString('en-US')} | ${s.detections.toLocaleString('en-US')} | ${name} | ${(r.wallMs / 1000).toFixed(2)} s | ${(r.cpuMs / 1000).toFixed(2)} s | ${r.peakRssMb} MB | ${MB(r.evidenceState?.bytesRead ?? 0)} / ${MB(r.evidenceState?.bytesWritten ?? 0)} MB | ${((r.evidenceState?.ms ?? 0) / 1000).toFixed(2)} s | ${r.identityProtectionRequests} | ${r.throttled429} |`,
      )
  lines.push('')
  for (const s of results)
    lines.push(
      `- ${s.users.toLocaleString('en-US')} users: first full collection ${(s.full.wallMs / 1000).toFixed(1)} s against its Identity Protection bound of ${(s.full.identityProtectionBoundMs / 1000).toFixed(1)} s (${s.full.identityProtectionCalls} pages at ${s.speed} requests/s), ratio ${s.full.ratioToBound}; state ${MB(s.stateBytes)} MB.`,
    )
  const big = results.at(-1)
  if (big) {
    const q = big.quiet
    lines.push(
      '',
      `Targets at ${big.users.toLocaleString('en-US')} users:`,
      '',
      '| target | figure | |',
      '|---|---|---|',
      `| peak RSS <= 512 MB (both runs) | ${big.full.peakRssMb} MB / ${q.peakRssMb} MB | ${yes(big.full.peakRssMb <= 512 && q.peakRssMb <= 512)} |`,
      `| quiet run <= 1.5 s wall | ${(q.wallMs / 1000).toFixed(2)} s (one that saves: ${(big.saving.wallMs / 1000).toFixed(2)} s) | ${yes(q.wallMs <= 1500)} |`,
      `| state handling <= 0.3 s | ${((q.evidenceState?.ms ?? 0) / 1000).toFixed(2)} s (one that saves: ${((big.saving.evidenceState?.ms ?? 0) / 1000).toFixed(2)} s) | ${yes((q.evidenceState?.ms ?? 0) <= 300)} |`,
      `| <= 3 Identity Protection requests | ${q.identityProtectionRequests} | ${yes(q.identityProtectionRequests <= 3)} |`,
    )
  }
  lines.push(
    '',
    "Watch mode per day (a run every 15 s: 5,760 runs). CPU: a watcher measured for a while at a run every second gives the CPU per quiet run (x 5,760); plus 288 saves (one per half overlap, each costing what the quiet run that saves cost beyond the quiet run) and the daily full collection (the first full collection's CPU). Storage transactions: counted from the code, not measured (per run the state's conditional read and 7 of the blob ledger: segment lookup, create-if-absent, lease, re-check, properties, read, release; plus the 288 state writes). Identity Protection: the requests of a quiet watch run as measured, plus the daily full collection's pages.",
    '',
    '| users | CPU per quiet run | CPU per day | state parsed / written in the window | storage transactions per day | Identity Protection share |',
    '|---|---|---|---|---|---|',
    ...results.map((s) => {
      const d = watchPerDay(s)
      return `| ${s.users.toLocaleString('en-US')} | ${s.watch.cpuMsPerRun} ms | ${d.cpuSeconds.toLocaleString('en-US')} s (${(d.cpuSeconds / 60).toFixed(1)} min) | ${s.watch.stateReadsParsed} / ${s.watch.stateWrites} of ${s.watch.runs} runs | ${d.transactions.toLocaleString('en-US')} | ${(d.ipShare * 100).toFixed(1)}% of the tenant's 1 request/s (${s.watch.ipPerRun ?? 2} requests a quiet run) |`
    }),
  )
  return lines.join('\n')
}

/**
 * Watch mode's cost per day at a run every 15 s (5,760 runs): CPU from the measured watcher, its
 * 288 saves and its daily full collection (from the job's runs), and storage transactions counted
 * from the code (a blob ledger and state; not measured here).
 */
export function watchPerDay(s) {
  const runs = 86_400 / 15
  const saveMs = Math.max(0, s.saving.cpuMs - s.quiet.cpuMs)
  const cpuSeconds = Math.round((s.watch.cpuMsPerRun * runs + 288 * saveMs + s.full.cpuMs) / 1000)
  // Per quiet run: the state's conditional read (304 when unchanged); the blob ledger's segment
  // lookup (HEAD), create-if-absent, lease, re-check (HEAD), properties, read, release: 7.
  // Writes of the state: when its watermarks are half an overlap old (default 5 min): 288 a day.
  const transactions = Math.round(runs * (1 + 7) + 288)
  // Identity Protection: the requests of a quiet watch run as measured (2 before the watch read the
  // risky users only every fourth run) and the daily full collection's pages, against the tenant's
  // 86,400 a day.
  const ipShare = ((s.watch.ipPerRun ?? 2) * runs + s.full.identityProtectionCalls) / 86_400
  return { runs, cpuSeconds, transactions, ipShare }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = (line) => process.stderr.write(`scale ${line}\n`)
  const json = join(RESULTS, 'scale.json')
  const previous = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : {}
  const bySize = Object.fromEntries((previous.results ?? []).map((r) => [r.users, r]))
  for (const users of SIZES) bySize[users] = await scaleScenario({ users, log })
  const results = Object.values(bySize).sort((a, b) => a.users - b.users)
  writeFileSync(json, `${JSON.stringify({ node: process.version, results }, null, 2)}\n`)
  const md = scaleMarkdown(results)
  writeFileSync(join(RESULTS, 'scale.md'), `${md}\n`)
  console.log(md)
}
