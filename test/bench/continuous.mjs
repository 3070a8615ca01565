// The continuous scenario of `pnpm bench` (issue #14): how long from the moment Graph shows a new
// risk to the audit line that verifies its containment, and what keeping watch costs.
//
// The mock tenant holds 10,000 stale at-risk users (medium and low: the policy acts on high). Over
// `minutes` simulated minutes, `arrivals` other users become risky at random times: most by a
// real-time detection, some by an offline one published late with a detectedDateTime hours old.
// Each mode starts from the state one earlier run left (steady state), then:
// - job: a new process every simulated minute, as the Container Apps schedule starts it (overlapping
//   executions allowed); its latency is reported as measured and with a modeled 30 s platform start
//   (arrivals are uniform, so a constant start delay shifts every latency by that much);
// - watch: one `tourniquet watch` process, a run every 15 simulated seconds;
// - baseline: the design before issue #14: a full collection on the old 10-minute schedule.
// Issue #21 adds cases where a run must not trust what it remembers: synced users whose AD account
// Defender for Identity reports minutes after their risk, accounts disabled when their risk appears
// and re-enabled minutes later while still at risk, and a state file a third party edits mid-window
// (forged users at high risk, an invented detection on a contained user). Each special user counts
// as contained once every action of its rule is verified; `missedContainments` counts those never
// contained, `forgedActions` the actions on users Graph never reported.
// Times are simulated (wall x scale), like the rest of the bench.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { addUserSpec, createMockGraph, generateTenant, seeded, serveMock } from '@tourniquet/mock-graph'
import { parseState, serializeState } from '../../apps/runner/dist/evidence/format.js'
import { jobSetup } from './job.mjs'

// Special users (issue #21) are raised by a password spray and also disabled; the others as before.
const POLICY =
  'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 1000000\nrules:\n  - name: spray\n    when: { riskLevel: [high], detections: { anyOf: [passwordSpray] } }\n    then: [confirmCompromised, revokeSessions, disable]\n  - name: high\n    when: { riskLevel: [high] }\n    then: [confirmCompromised, revokeSessions]\n'
const ACTIONS = ['confirmCompromised', 'revokeSessions']
const SPECIAL_ACTIONS = ['confirmCompromised', 'revokeSessions', 'disable']
const BYSTANDERS = 5
const STALE_USERS = 10_000
const PLATFORM_START_MS = 30_000
const HOUR = 3_600_000

/** When each newcomer becomes readable (simulated ms after the start) and how it was detected. */
function arrivalsOf({ arrivals, minutes, seed }) {
  const random = seeded(seed)
  return Array.from({ length: arrivals }, (_, i) => {
    const offline = random() < 0.3
    return {
      name: `newcomer${String(i).padStart(3, '0')}`,
      atMs: Math.floor(random() * minutes * 60_000),
      timing: offline ? 'offline' : 'realtime',
      type: offline ? 'leakedCredentials' : 'unfamiliarFeatures',
      // Offline: detected hours before it is readable; real-time: 5 to 10 minutes before.
      detectedAgoMs: offline ? (4 + Math.floor(random() * 36)) * HOUR : (5 + random() * 5) * 60_000,
    }
  }).sort((a, b) => a.atMs - b.atMs)
}

/**
 * The special users of issue #21, from a stream of their own (the newcomers above stay the same):
 * `syncedLate` users' Defender for Identity account appears `lagMs` after their risk; `reenabled`
 * users are disabled when their risk appears and re-enabled `lagMs` later.
 */
function specialsOf({ minutes, seed, synced = 6, reenabled = 4 }) {
  const random = seeded(seed + 0x21)
  const make = (kind, i) => ({
    kind,
    name: `${kind}${i}`,
    atMs: Math.floor(random() * (minutes - 10) * 60_000),
    lagMs: (3 + random() * 5) * 60_000,
  })
  return [
    ...Array.from({ length: synced }, (_, i) => make('syncedLate', i)),
    ...Array.from({ length: reenabled }, (_, i) => make('reenabled', i)),
  ]
}

/** A fresh tenant: the stale backlog, the newcomers, the special users and bystanders (directory users, not at risk yet). */
async function tenantWithNewcomers(arrivals, specials, scale, latencyMs) {
  const now = Date.now()
  const tenant = generateTenant({ riskyUsers: STALE_USERS, seed: 3, now: now - 3 * HOUR, highShare: 0 })
  const random = seeded(0xc0)
  const ids = arrivals.map((a) => addUserSpec(tenant, random, { name: a.name }, now).id)
  const other = seeded(0xc1)
  const special = specials.map((sp) => {
    const user = addUserSpec(
      tenant,
      other,
      {
        name: sp.name,
        kind: sp.kind === 'syncedLate' ? 'synced' : 'cloud',
        enabled: sp.kind !== 'reenabled',
      },
      now,
    )
    // Defender for Identity has not reported the account yet.
    const identity = [...tenant.identityAccounts.values()].find((i) => i.userId === user.id)
    if (identity) tenant.identityAccounts.delete(identity.id)
    return { ...sp, id: user.id, identity }
  })
  const bystanders = Array.from(
    { length: BYSTANDERS },
    (_, i) => addUserSpec(tenant, other, { name: `bystander${i}` }, now).id,
  )
  const mock = createMockGraph({ tenant, timeScale: scale, faults: { latencyMs } })
  const server = await serveMock(mock)
  return { mock, server, ids, special, bystanders }
}

/** Reads a process's audit lines as they come: when each user's steps were verified, and each run's summary. */
function follow(child, seen) {
  let buffer = ''
  child.stdout.on('data', (chunk) => {
    buffer += chunk
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf('\n')
      let record
      try {
        record = JSON.parse(line)
      } catch {
        continue
      }
      seen.line(record, performance.now())
    }
  })
  child.stderr.resume()
  return new Promise((resolve) => child.on('close', resolve))
}

/** What the audit lines of every run of one mode told. */
class Observed {
  verified = new Map() // userId -> Map(action -> wall time of its `succeeded` line)
  runs = new Map() // runId -> { steps, summary }
  rebuilt = [] // [start, end] wall times of runs that collected in full to rebuild a forged state

  line(record, at) {
    if (typeof record.runId !== 'string') return
    const run = this.runs.get(record.runId) ?? { steps: 0, summary: undefined }
    this.runs.set(record.runId, run)
    if (record.event === 'step') {
      if (record.status !== 'skipped') run.steps++
      if (record.status !== 'succeeded') return
      const actions = this.verified.get(record.userId) ?? new Map()
      this.verified.set(record.userId, actions)
      if (!actions.has(record.action)) actions.set(record.action, at)
    } else if (record.event === 'summary') {
      run.summary = record
      if (/^fresh facts:/.test(record.collectionReason ?? ''))
        this.rebuilt.push([at - (record.durationMs ?? 0), at])
    }
  }

  /** When every action of the user was verified, or undefined. */
  containedAt(userId, expected = ACTIONS) {
    const actions = this.verified.get(userId)
    if (actions === undefined || !expected.every((a) => actions.has(a))) return undefined
    return Math.max(...expected.map((a) => actions.get(a)))
  }

  summaries() {
    return [...this.runs.values()].filter((r) => r.summary !== undefined)
  }
}

const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())))

/**
 * One mode over the whole window, on a fresh tenant: a warm-up run leaves the evidence state a job
 * that has been running would have, then `drive` starts the mode's processes (`run(args)`).
 */
async function measure({
  name,
  cli,
  scale,
  minutes,
  arrivals,
  latencyMs,
  extraEnv,
  drive,
  tailMinutes,
  log,
  cases = true,
}) {
  // `cases: false` is the window as it was before issue #21's cases: to tell a cost of the code
  // from a cost of the harder scenario.
  const specials = cases ? specialsOf({ minutes, seed: 14 }) : []
  const { mock, server, ids, special, bystanders } = await tenantWithNewcomers(
    arrivals,
    specials,
    scale,
    latencyMs,
  )
  const { dir, env } = await jobSetup(server, POLICY, scale)
  const stateFile = `${env.TOURNIQUET_LEDGER}.evidence.json`
  Object.assign(env, { TOURNIQUET_OVERLAP: `PT${600 / scale}S` }, extraEnv)
  const run = (args, observed) => {
    const child = spawn(cli[0], [...cli.slice(1), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    return { child, done: follow(child, observed) }
  }
  // Steady state: the state a job that has been running leaves (one full collection).
  const warmup = new Observed()
  await run(['run', '--apply'], warmup).done
  const fullRun = warmup.summaries()[0]?.summary
  log(
    `${name}: warm-up ${fullRun?.collection} collection, ${fullRun?.identityProtectionRequests} Identity Protection requests`,
  )

  const window = await watchWindow({
    mock,
    ids,
    arrivals,
    special,
    bystanders,
    stateFile,
    forge: cases,
    scale,
    minutes,
    tailMinutes,
    drive,
    run,
  })
  await server.close()
  await rm(dir, { recursive: true, force: true })
  const result = outcome({ ...window, mock, ids, arrivals, special, bystanders, scale, fullRun })
  log(
    `${name}: ${result.runs} runs, p50 ${pct(result.latenciesMs, 50)} ms, p95 ${pct(result.latenciesMs, 95)} ms, missed ${result.missed}, special missed ${result.missedSpecial} (p95 ${pct(result.specialLatenciesMs, 95)} ms), forged actions ${result.forgedActions}, steady IP ${max(result.steadyIdentityProtectionRequests)} / other ${max(result.steadyOtherRequests)}, busy IP ${max(result.busyIdentityProtectionRequests)}, busy runs took ${result.busyRunMs.join(' ')} ms`,
  )
  return result
}

/**
 * What a third party writes into the state mid-window: each bystander (never at risk) at high risk
 * with a detection, and an invented detection on every user already contained (a repeat). Written
 * through the runner's own format (dist/evidence/format.js), as a forger who read the code would.
 */
function tamper(stateFile, bystanders, observed) {
  if (!existsSync(stateFile)) return
  const state = parseState(readFileSync(stateFile, 'utf8'), stateFile)
  const detectedDateTime = new Date(Date.now() - 60_000).toISOString()
  const detect = (id, userId) =>
    state.detections.set(id, { id, userId, riskEventType: 'passwordSpray', detectedDateTime })
  for (const [i, userId] of bystanders.entries()) {
    state.users.set(userId, {
      userId,
      userPrincipalName: `bystander${i}@forged.example`,
      risk: { level: 'high', state: 'atRisk', detail: 'none' },
      directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Member' },
    })
    detect(`forged-${i}`, userId)
  }
  for (const userId of observed.verified.keys()) detect(`invented-${userId}`, userId)
  writeFileSync(stateFile, serializeState(state))
}

/** The special users' events: risk, then the Defender for Identity account or the re-enabling, `lagMs` later. */
function specialTimers({ mock, special, readable, scale }) {
  return special.flatMap((sp) => [
    setTimeout(() => {
      mock.tenant.detect(sp.id, {
        type: 'passwordSpray',
        level: 'high',
        timing: 'realtime',
        detectedAt: Date.now() - 6 * 60_000,
      })
    }, sp.atMs / scale),
    setTimeout(
      () => {
        if (sp.kind === 'syncedLate' && sp.identity)
          mock.tenant.identityAccounts.set(sp.identity.id, sp.identity)
        const user = mock.tenant.users.get(sp.id)
        if (sp.kind === 'reenabled' && user) user.accountEnabled = true
        // Containment can start only now: the latency counts from here.
        readable.set(sp.id, performance.now())
      },
      (sp.atMs + sp.lagMs) / scale,
    ),
  ])
}

/** The measured window: newcomers made readable on their schedule while `drive` runs the mode. */
async function watchWindow({
  mock,
  ids,
  arrivals,
  special,
  bystanders,
  stateFile,
  forge,
  scale,
  minutes,
  tailMinutes,
  drive,
  run,
}) {
  const observed = new Observed()
  const readable = new Map()
  const t0 = performance.now()
  const startedAt = Date.now()
  const timers = arrivals.map((a, i) =>
    setTimeout(() => {
      const id = ids[i]
      readable.set(id, performance.now())
      mock.tenant.detect(id, {
        type: a.type,
        level: 'high',
        timing: a.timing,
        detectedAt: Date.now() - a.detectedAgoMs,
      })
    }, a.atMs / scale),
  )
  timers.push(...specialTimers({ mock, special, readable, scale }))
  if (forge)
    timers.push(setTimeout(() => tamper(stateFile, bystanders, observed), (minutes * 60_000) / 2 / scale))
  const windowEnd = t0 + (minutes * 60_000) / scale
  const deadline = windowEnd + (tailMinutes * 60_000) / scale
  const settled = () =>
    performance.now() >= windowEnd &&
    ids.every((id) => observed.containedAt(id) !== undefined) &&
    special.every((sp) => specialContainedAt(observed, sp, readable) !== undefined)
  await drive({ run, observed, t0, settled, deadline, scale })
  const simulatedSeconds = ((performance.now() - t0) * scale) / 1000
  for (const t of timers) clearTimeout(t)
  return { observed, readable, startedAt, simulatedSeconds }
}

/** When a special user was contained: every action of its rule verified, the disable after it could be done. */
function specialContainedAt(observed, sp, readable) {
  const at = observed.containedAt(sp.id, SPECIAL_ACTIONS)
  const from = readable.get(sp.id)
  if (at === undefined || from === undefined) return undefined
  // A re-enabled account is contained by a disable verified after it was re-enabled.
  const disabled = observed.verified.get(sp.id)?.get('disable')
  return sp.kind === 'reenabled' && disabled < from ? undefined : at
}

/** What one mode achieved: latencies, misses, Identity Protection requests per run, 429s. */
function outcome({
  observed,
  readable,
  startedAt,
  simulatedSeconds,
  mock,
  ids,
  arrivals,
  special,
  bystanders,
  scale,
  fullRun,
}) {
  const latencies = []
  // Arrivals readable while a run rebuilt a forged state (or one interval before it started) wait
  // for that full collection: told apart so the cost of the forgery shows on its own.
  const period = 60_000 / scale
  const duringRebuild = (t) => observed.rebuilt.some(([a, b]) => t >= a - period && t <= b)
  const outsideRebuild = []
  let missed = 0
  let missedLate = 0
  arrivals.forEach((a, i) => {
    const id = ids[i]
    const at = observed.containedAt(id)
    const from = readable.get(id)
    if (at === undefined || from === undefined) {
      missed++
      if (a.timing === 'offline') missedLate++
    } else {
      latencies.push(Math.round((at - from) * scale))
      if (!duringRebuild(from)) outsideRebuild.push(Math.round((at - from) * scale))
    }
  })
  const specialLatencies = []
  let missedSpecial = 0
  for (const sp of special) {
    const at = specialContainedAt(observed, sp, readable)
    if (at === undefined) missedSpecial++
    else specialLatencies.push(Math.round((at - readable.get(sp.id)) * scale))
  }
  const forged = new Set(bystanders)
  const forgedActions = mock.tenant.actions.filter((a) => forged.has(a.userId)).length
  const runs = observed.summaries()
  const ip = (r) => r.summary.identityProtectionRequests ?? 0
  // Everything else a run sends: the directory's $batch reads, Defender for Identity lookups, writes, tokens.
  const other = (r) => (r.summary.graphRequests ?? 0) - ip(r)
  const steady = runs.filter((r) => r.steps === 0).map(ip)
  const busy = runs.filter((r) => r.steps > 0).map(ip)
  const throttled = mock.log.filter(
    (l) => l.time >= startedAt && l.status === 429 && l.path.startsWith('/v1.0/identityProtection/'),
  )
  const ipTotal = runs.reduce((n, r) => n + ip(r), 0)
  return {
    latenciesMs: latencies.sort((a, b) => a - b),
    latenciesOutsideRebuildMs: outsideRebuild.sort((a, b) => a - b),
    rebuildRunsMs: observed.rebuilt.map(([a, b]) => Math.round((b - a) * scale)),
    missed,
    specialLatenciesMs: specialLatencies.sort((a, b) => a - b),
    missedSpecial,
    forgedActions,
    steadyOtherRequests: runs.filter((r) => r.steps === 0).map(other),
    busyOtherRequests: runs.filter((r) => r.steps > 0).map(other),
    missedLate,
    runs: runs.length,
    fullCollectionIdentityProtectionRequests: fullRun?.identityProtectionRequests,
    collections: count(runs.map((r) => r.summary.collection)),
    steadyIdentityProtectionRequests: steady,
    busyIdentityProtectionRequests: busy,
    identityProtectionRequestsPerSecond: Number((ipTotal / simulatedSeconds).toFixed(3)),
    identityProtection429: throttled.length,
    busyRunMs: runs.filter((r) => r.steps > 0).map((r) => Math.round(r.summary.durationMs * scale)),
    duplicates: mock.duplicates().length,
  }
}

/** The job: a new process every `periodMs` (simulated), whether or not the last one is still going. */
const scheduled =
  (periodMs) =>
  async ({ run, observed, t0, settled, deadline, scale }) => {
    const going = []
    for (let k = 0; ; k++) {
      const at = t0 + (k * periodMs) / scale
      if (at > deadline) break
      await sleepUntil(at)
      if (settled()) break
      going.push(run(['run', '--apply'], observed).done)
    }
    await Promise.all(going)
  }

/** `tourniquet watch`: one process until everything is contained (or the deadline), then SIGTERM. */
const watching = async ({ run, observed, settled, deadline }) => {
  const { child, done } = run(['watch', '--apply'], observed)
  while (!settled() && performance.now() < deadline) await sleepUntil(performance.now() + 50)
  child.kill('SIGTERM')
  await done
}

function count(values) {
  const counts = {}
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1
  return counts
}
const max = (values) => (values.length === 0 ? 0 : Math.max(...values))
/** Nearest-rank percentile of sorted values. */
function pct(sorted, p) {
  if (sorted.length === 0) return undefined
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/**
 * Runs the three modes one after the other (they would compete for the same cores) and returns
 * the results JSON's `continuous` object, its Markdown and its SVG.
 */
export async function continuousScenario({
  cli,
  scale = 10,
  minutes = 30,
  arrivals: n = 40,
  seed = 14,
  latencyMs = 20,
  log = () => {},
}) {
  const arrivals = arrivalsOf({ arrivals: n, minutes, seed })
  const common = { cli, scale, minutes, arrivals, latencyMs, log }
  const job = await measure({ ...common, name: 'job', drive: scheduled(60_000), tailMinutes: 5 })
  const watch = await measure({
    ...common,
    name: 'watch',
    extraEnv: { TOURNIQUET_WATCH_INTERVAL: `PT${15 / scale}S` },
    drive: watching,
    tailMinutes: 2,
  })
  const baseline = await measure({
    ...common,
    name: 'baseline',
    extraEnv: { TOURNIQUET_COLLECTION: 'full' },
    drive: scheduled(600_000),
    tailMinutes: 12,
  })
  const withStart = job.latenciesMs.map((ms) => ms + PLATFORM_START_MS)
  const specials = specialsOf({ minutes, seed: 14 })
  const special = (kind) => specials.filter((sp) => sp.kind === kind).length
  const continuous = {
    scale,
    minutes,
    staleUsers: STALE_USERS,
    arrivals: n,
    offlineArrivals: arrivals.filter((a) => a.timing === 'offline').length,
    p50Ms: pct(job.latenciesMs, 50),
    p95Ms: pct(job.latenciesMs, 95),
    maxMs: max(job.latenciesMs),
    withPlatformStart: {
      modeledStartMs: PLATFORM_START_MS,
      p50Ms: pct(withStart, 50),
      p95Ms: pct(withStart, 95),
      maxMs: max(withStart),
    },
    watchP50Ms: pct(watch.latenciesMs, 50),
    watchP95Ms: pct(watch.latenciesMs, 95),
    watchMaxMs: max(watch.latenciesMs),
    baselineP50Ms: pct(baseline.latenciesMs, 50),
    baselineP95Ms: pct(baseline.latenciesMs, 95),
    baselineMaxMs: max(baseline.latenciesMs),
    steadyIdentityProtectionRequestsPerRun: max([
      ...job.steadyIdentityProtectionRequests,
      ...watch.steadyIdentityProtectionRequests,
    ]),
    busyIdentityProtectionRequestsPerRun: max([
      ...job.busyIdentityProtectionRequests,
      ...watch.busyIdentityProtectionRequests,
    ]),
    // Before issue #14 every run was a full collection: its cost when nothing changed is the warm-up's.
    baselineSteadyIdentityProtectionRequestsPerRun: baseline.fullCollectionIdentityProtectionRequests,
    watchIdentityProtectionShare: watch.identityProtectionRequestsPerSecond,
    missedLateDetections: job.missedLate + watch.missedLate,
    missed: { job: job.missed, watch: watch.missed, baseline: baseline.missed },
    // Issue #21: every newcomer and special user of the job and watch modes contained, nothing forged acted on.
    missedContainments: job.missed + watch.missed + job.missedSpecial + watch.missedSpecial,
    special: {
      syncedLate: special('syncedLate'),
      reenabled: special('reenabled'),
      jobP95Ms: pct(job.specialLatenciesMs, 95),
      watchP95Ms: pct(watch.specialLatenciesMs, 95),
    },
    forgedActions: job.forgedActions + watch.forgedActions,
    // The forged state's cost: the run that rebuilt it, and p95 over the arrivals outside that run.
    rebuildRunsMs: { job: job.rebuildRunsMs, watch: watch.rebuildRunsMs },
    p95OutsideRebuildMs: pct(job.latenciesOutsideRebuildMs, 95),
    watchP95OutsideRebuildMs: pct(watch.latenciesOutsideRebuildMs, 95),
    steadyOtherRequestsPerRun: max([...job.steadyOtherRequests, ...watch.steadyOtherRequests]),
    busyOtherRequestsPerRun: max([...job.busyOtherRequests, ...watch.busyOtherRequests]),
    identityProtection429: job.identityProtection429 + watch.identityProtection429,
    duplicates: job.duplicates + watch.duplicates + baseline.duplicates,
    modes: { job, watch, baseline },
  }
  return { continuous, markdown: markdownOf(continuous), svg: svgOf(continuous) }
}

const s = (ms) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`)

function markdownOf(c) {
  const row = (name, m, p50, p95, mx) =>
    `| ${name} | ${m.runs} | ${s(p50)} | ${s(p95)} | ${s(mx)} | ${max(m.steadyIdentityProtectionRequests)} / ${max(m.busyIdentityProtectionRequests)} | ${m.missed} |`
  return [
    `Continuous containment (${c.staleUsers} stale at-risk users, ${c.arrivals} new risky users over ${c.minutes} simulated minutes, ${c.offlineArrivals} of them offline detections published late; mock at ${c.scale}x, times simulated): from the detection readable in Graph to the audit line verifying containment.`,
    '',
    '| mode | runs | p50 | p95 | max | Identity Protection requests per run, steady / busy | missed |',
    '|---|---|---|---|---|---|---|',
    row('job, every minute', c.modes.job, c.p50Ms, c.p95Ms, c.maxMs),
    `| job + modeled ${c.withPlatformStart.modeledStartMs / 1000} s platform start | | ${s(c.withPlatformStart.p50Ms)} | ${s(c.withPlatformStart.p95Ms)} | ${s(c.withPlatformStart.maxMs)} | | |`,
    row('watch, every 15 s', c.modes.watch, c.watchP50Ms, c.watchP95Ms, c.watchMaxMs),
    row(
      'before: full collection every 10 min',
      c.modes.baseline,
      c.baselineP50Ms,
      c.baselineP95Ms,
      c.baselineMaxMs,
    ),
    '',
    `Steady state: ${c.steadyIdentityProtectionRequestsPerRun} Identity Protection requests per run (full collection: ${c.baselineSteadyIdentityProtectionRequestsPerRun}) and at most ${c.steadyOtherRequestsPerRun} other Graph requests (directory, Defender for Identity, token; at most ${c.busyOtherRequestsPerRun} in a busy run); watch used ${c.watchIdentityProtectionShare} request/s of the tenant's 1; late detections missed: ${c.missedLateDetections}; Identity Protection 429s: ${c.identityProtection429}; actions twice: ${c.duplicates}.`,
    '',
    `A forged state mid-window is rebuilt by one full collection (job: ${c.rebuildRunsMs.job.map(s).join(', ')}; watch: ${c.rebuildRunsMs.watch.map(s).join(', ')}); outside that run, p95 is ${s(c.p95OutsideRebuildMs)} (job) and ${s(c.watchP95OutsideRebuildMs)} (watch).`,
    '',
    `Not trusting the cache (issue #21): ${c.special.syncedLate} synced users whose AD account Defender for Identity reports 3-8 minutes late and ${c.special.reenabled} accounts re-enabled 3-8 minutes after their risk, in each mode, contained at p95 ${s(c.special.jobP95Ms)} (job) / ${s(c.special.watchP95Ms)} (watch) after that; a third party's forged state mid-window (${BYSTANDERS} users never at risk, an invented detection on every contained user): ${c.forgedActions} actions on them. Missed containments: ${c.missedContainments}.`,
  ].join('\n')
}

/** Each mode's latencies as dots on a log time axis, with its p50 and p95 marked. */
function svgOf(c) {
  const W = 720
  const H = 260
  const left = 230
  const right = 30
  const modes = [
    ['job, every minute', c.modes.job.latenciesMs, '#c0392b'],
    [
      `job + ${c.withPlatformStart.modeledStartMs / 1000} s platform start`,
      c.modes.job.latenciesMs.map((v) => v + c.withPlatformStart.modeledStartMs),
      '#e67e22',
    ],
    ['watch, every 15 s', c.modes.watch.latenciesMs, '#27ae60'],
    ['before: full, every 10 min', c.modes.baseline.latenciesMs, '#7f8c8d'],
  ]
  const all = modes.flatMap(([, v]) => v)
  const lo = 1_000
  const hi = Math.max(lo * 10, ...all)
  const x = (ms) => left + ((W - left - right) * Math.log10(Math.max(ms, lo) / lo)) / Math.log10(hi / lo)
  const rows = modes.map(([name, values, color], i) => {
    const y = 60 + i * 45
    const sorted = [...values].sort((a, b) => a - b)
    const dots = sorted.map(
      (v) => `<circle cx="${x(v).toFixed(1)}" cy="${y}" r="3" fill="${color}" fill-opacity="0.6"/>`,
    )
    const mark = (p, label) => {
      const v = pct(sorted, p)
      return v === undefined
        ? ''
        : `<line x1="${x(v).toFixed(1)}" y1="${y - 10}" x2="${x(v).toFixed(1)}" y2="${y + 10}" stroke="black"/><text x="${x(v).toFixed(1)}" y="${y - 13}" font-size="10" text-anchor="middle">${label}</text>`
    }
    return `<text x="${left - 10}" y="${y + 4}" font-size="12" text-anchor="end">${name}</text>${dots.join('')}${mark(50, 'p50')}${mark(95, 'p95')}`
  })
  const ticks = [1_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000]
    .filter((t) => t <= hi)
    .map((t) => {
      const label = t < 60_000 ? `${t / 1000} s` : `${t / 60_000} min`
      return `<line x1="${x(t)}" y1="${H - 50}" x2="${x(t)}" y2="${H - 45}" stroke="black"/><text x="${x(t)}" y="${H - 32}" font-size="11" text-anchor="middle">${label}</text>`
    })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="24" font-size="15" text-anchor="middle">Detection readable in Graph to containment verified (simulated time, log scale)</text>
<line x1="${left}" y1="${H - 50}" x2="${W - right}" y2="${H - 50}" stroke="black"/>
${ticks.join('\n')}
${rows.join('\n')}
</svg>
`
}

/** Writes the scenario's results beside the rest of the bench's: bench.json's `continuous`, its section of bench.md, continuous.svg. */
export function writeContinuous(results, { continuous, markdown, svg }) {
  const json = join(results, 'bench.json')
  const previous = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : {}
  writeFileSync(json, `${JSON.stringify({ ...previous, continuous }, null, 2)}\n`)
  const md = join(results, 'bench.md')
  const before = existsSync(md) ? readFileSync(md, 'utf8').split(SECTION)[0].trimEnd() : ''
  writeFileSync(md, `${before}\n\n${SECTION}${markdown.slice(SECTION.length)}\n`)
  writeFileSync(join(results, 'continuous.svg'), svg)
}
const SECTION = 'Continuous containment'

// Alone: `node bench/continuous.mjs` (BENCH_CONTINUOUS_MINUTES, BENCH_CONTINUOUS_ARRIVALS to shorten it).
if (import.meta.main && process.env.BENCH_CONTINUOUS_CONTROL === '1') {
  // The control: job and watch over the window without issue #21's cases; logs only, writes nothing.
  const root = join(import.meta.dirname, '..', '..')
  const common = {
    cli: [process.execPath, join(root, 'apps/runner/bundle/cli.mjs')],
    scale: 10,
    minutes: 30,
    arrivals: arrivalsOf({ arrivals: 40, minutes: 30, seed: 14 }),
    latencyMs: 20,
    log: (line) => process.stderr.write(`control ${line}\n`),
    cases: false,
  }
  await measure({ ...common, name: 'job', drive: scheduled(60_000), tailMinutes: 5 })
  await measure({
    ...common,
    name: 'watch',
    extraEnv: { TOURNIQUET_WATCH_INTERVAL: `PT${15 / 10}S` },
    drive: watching,
    tailMinutes: 2,
  })
} else if (import.meta.main) {
  const root = join(import.meta.dirname, '..', '..')
  const out = await continuousScenario({
    cli: [process.execPath, join(root, 'apps/runner/bundle/cli.mjs')],
    minutes: Number(process.env.BENCH_CONTINUOUS_MINUTES ?? 30),
    arrivals: Number(process.env.BENCH_CONTINUOUS_ARRIVALS ?? 40),
    log: (line) => process.stderr.write(`${line}\n`),
  })
  writeContinuous(join(import.meta.dirname, 'results'), out)
  console.log(out.markdown)
}
