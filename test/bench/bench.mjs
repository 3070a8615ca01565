// pnpm bench (test/bench): Tourniquet against the mock tenant at N = 1,000 and 10,000 risky users,
// next to a naive sequential script and the lower bound the mock's limits allow; and a mixed
// tenant (10,000 risky users and 1,000 risky service principals, issue #25) against its own bound.
//
// Scenario: 1-3 detections per user, every user at high risk; policy: high risk -> confirmCompromised
// + revokeSessions. Mock: 20 ms latency per request, Identity Protection 1 request/s per tenant (429
// without Retry-After beyond it), directory writes 3,000 per 150 s; all scaled by SCALE so the
// 10,000-user baseline fits in minutes. Ratios are what count; times are also given in real-Graph
// seconds (x SCALE).
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  generateTenant,
  pageCount,
  remediationTokenForm,
  serveMock,
  WORKLOAD_APP_ID,
  WORKLOAD_APP_SECRET,
} from '@tourniquet/mock-graph'
import { Agent, request } from 'undici'
import { continuousScenario, writeContinuous } from './continuous.mjs'
import { finished, jobSetup } from './job.mjs'
import { measureStart } from './start.mjs'

// BENCH_SIZES= (empty) runs no users-only row; BENCH_MIXED=0 skips the mixed row, BENCH_MIXED=1
// with BENCH_SIZES= runs it alone.
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').filter(Boolean).map(Number)
const MIXED = process.env.BENCH_MIXED !== '0'
const MIXED_USERS = 10_000
const MIXED_SERVICE_PRINCIPALS = Number(process.env.BENCH_MIXED_SPS ?? 1_000)
const MIXED_SCALE = 10
// N = 1,000 runs at Graph's real pace; N = 10,000 ten times faster so it fits in a minute (a run's
// fixed costs, process start above all, weigh ten times more there). The naive baseline runs much
// faster so its 10,000 sequential users fit in minutes. Times are compared in real-Graph seconds
// (wall x factor).
const SCALE_FOR = (n) => Number(process.env.BENCH_SCALE ?? (n >= 10_000 ? 10 : 1))
const BASELINE_SCALE = Number(process.env.BENCH_BASELINE_SCALE ?? 100)
const LATENCY_MS = 20
const ROOT = join(import.meta.dirname, '..', '..')
const RESULTS = join(import.meta.dirname, 'results')
const POLICY =
  'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 1000000\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [confirmCompromised, revokeSessions]\n'

// The mixed row: the users' rule as above, and service principals at high risk confirmed compromised
// and disabled. removeCredentials is left out: it waits for a person's approval by default.
const MIXED_POLICY = `${POLICY}servicePrincipals:
  limits:
    maxActionsPerRun: 1000000
  rules:
    - name: high
      when: { riskLevel: [high] }
      then: [confirmCompromised, disable]
`

function tenantFor(n, servicePrincipals = 0) {
  return generateTenant({
    riskyUsers: n,
    seed: 1,
    highShare: 1,
    detectionsPerUser: [1, 3],
    ...(servicePrincipals > 0 ? { servicePrincipals, detectionsPerServicePrincipal: [1, 2] } : {}),
  })
}

async function startMock(n, scale, servicePrincipals = 0) {
  const mock = createMockGraph({
    tenant: tenantFor(n, servicePrincipals),
    timeScale: scale,
    faults: { latencyMs: LATENCY_MS },
  })
  const server = await serveMock(mock)
  return { mock, server }
}

/**
 * The least time the mock's limits allow, two ways.
 *
 * The job's bound: what any tool needs that does this job (read the signals, decide on all of
 * them, act, read the effect back) at the mock's limits. Identity Protection calls at 1 request/s:
 * risky-user pages, detection pages, confirmCompromised calls (60 users each) and the read-back
 * pages of the confirmed users. Pages are counted as the mock serves them at the largest `$top`
 * (500): a page after the first may hold up to 2 fewer items (server-driven paging, as Graph
 * does), so 1,000 users take 3 pages, not 2 (`pageCount`; until issue #24 the bound assumed
 * ceil(items / 500) and was 3 requests short at 1,000 users). No action can start before the last
 * detection page is read (a later detection can change the decision), so the directory writes
 * (a 3,000 burst, then 20/s) start after collection. Plus three latencies (token, first page, last
 * write).
 *
 * The any-order bound: the same calls with no ordering at all: writes from t = 0, no read-back.
 * No tool can reach it (it would act before knowing whom to act on); it is kept for comparison.
 */
function lowerBound({ riskyUsers, detections, confirmed, writes }, SCALE) {
  const rate = SCALE // Identity Protection calls per second at this speed
  const collectCalls = pageCount(riskyUsers, 500) + pageCount(detections, 500)
  const confirmCalls = Math.ceil(confirmed / 60)
  const readBackCalls = pageCount(confirmed, 500)
  const writeMs = (Math.max(0, writes - 3000) / ((3000 / 150) * SCALE)) * 1000
  const latency = (3 * LATENCY_MS) / SCALE
  const ipMs = (calls) => ((calls - 1) / rate) * 1000
  return {
    ms: Math.max(ipMs(collectCalls + confirmCalls + readBackCalls), ipMs(collectCalls) + writeMs) + latency,
    anyOrderMs: Math.max(ipMs(collectCalls + confirmCalls), writeMs) + latency,
    ipCalls: collectCalls + confirmCalls + readBackCalls,
    // What the bound counted before issue #24 (ceil(items / 500) pages), for comparison.
    assumedPagesIpCalls:
      Math.ceil(riskyUsers / 500) + Math.ceil(detections / 500) + confirmCalls + Math.ceil(confirmed / 500),
  }
}

/**
 * The mixed tenant's bound: the job's bound above, extended to what any tool needs for the service
 * principals too, on the budgets the two kinds share.
 *
 * Identity Protection (1 request/s per tenant for every app, shared by both kinds), at the page
 * sizes a tool may ask for: risky-user and detection pages at `$top=500` (both documented to 500);
 * risky service principal pages at 500 (`$top` is documented there without a maximum; 500 is the
 * mock's); service principal detection pages at the service's own page size, 20 in the mock,
 * since that list documents `$filter` and `$select` only, no `$top`
 * (identityprotectionroot-list-serviceprincipalriskdetections); confirmCompromised for users at
 * 60 ids a call (the documented chunk) and for service principals in one call (its page names no
 * limit and the mock enforces none; Tourniquet sends 60 at most); read-back of each kind by one
 * list of the confirmed ones at `$top=500`. Every one of these is counted once, in any order: the
 * Identity Protection chain is their number at 1 request/s.
 *
 * Directory writes (3,000 at once, then 20/s per app and tenant; one bucket for `/users/` and
 * `/servicePrincipals`): the users' revokes and the service principals' disables. A write of one
 * kind rests on that kind's whole collection (a later page can change the decision), and the
 * kinds are independent of each other, so the writes can start once the cheaper of the two
 * collections is read; from then on the bucket is never idle (the other kind's writes join the
 * queue long before it drains), so the write chain is that collection plus (writes - 3,000) at
 * 20/s. Directory reads (the service principals and their applications through `$batch`, the
 * read-back of disables) have no budget in the mock: only their latency, which the three latencies
 * cover as in the job's bound. The bound is the longer chain plus three latencies. It does not
 * charge Tourniquet's own rule that a cap able to refuse the service principals is decided before
 * anything is sent (decision 017): that is a choice of ours, not a need of the job.
 */
function mixedLowerBound(
  { riskyUsers, detections, confirmed, writes, riskyServicePrincipals, spDetections, spConfirmed, spWrites },
  SCALE,
) {
  const ipMs = (calls) => ((calls - 1) / SCALE) * 1000
  const userCollect = pageCount(riskyUsers, 500) + pageCount(detections, 500)
  const spCollect = pageCount(riskyServicePrincipals, 500) + pageCount(spDetections, 20)
  const confirmCalls = Math.ceil(confirmed / 60) + (spConfirmed > 0 ? 1 : 0)
  const readBackCalls = pageCount(confirmed, 500) + (spConfirmed > 0 ? pageCount(spConfirmed, 500) : 0)
  const ipCalls = userCollect + spCollect + confirmCalls + readBackCalls
  const writeMs = (Math.max(0, writes + spWrites - 3000) / ((3000 / 150) * SCALE)) * 1000
  const writeChainMs = ipMs(Math.min(userCollect, spCollect)) + writeMs
  const latency = (3 * LATENCY_MS) / SCALE
  return {
    ms: Math.max(ipMs(ipCalls), writeChainMs) + latency,
    ipChainMs: ipMs(ipCalls) + latency,
    writeChainMs: writeChainMs + latency,
    ipCalls,
    calls: { userCollect, spCollect, confirmCalls, readBackCalls },
  }
}

/**
 * Where a run's time went, from the mock's request log (offsets in ms from the spawn): the first
 * request (the token), the last collection page, the last Identity Protection request, the last
 * write, the last read-back, and the exit. A regression shows in the gap that grew.
 */
function timelineOf(log, spawnedAt, exitedAt) {
  const end = (l) => l.time + l.durationMs
  const last = (entries) =>
    entries.length === 0 ? undefined : Math.round(Math.max(...entries.map(end)) - spawnedAt)
  const ip = log.filter((l) => l.path.startsWith('/v1.0/identityProtection/'))
  // Directory writes (a $batch's items, not the $batch itself; Identity Protection's actions are not).
  const isDirectoryWrite = (l) =>
    l.method !== 'GET' &&
    l.path.startsWith('/v1.0/') &&
    !l.path.endsWith('/$batch') &&
    !l.path.startsWith('/v1.0/identityProtection/')
  const isReadBack = (l) =>
    l.method === 'GET' &&
    (decodeURIComponent(l.query).includes("riskState eq 'confirmedCompromised'") ||
      decodeURIComponent(l.query).includes('signInSessionsValidFromDateTime') ||
      new URLSearchParams(l.query).get('$filter') === "riskState eq 'confirmedCompromised'" ||
      (l.path.startsWith('/v1.0/servicePrincipals/') &&
        new URLSearchParams(l.query).get('$select') === 'id,accountEnabled') ||
      /^\/v1\.0\/identityProtection\/riskyServicePrincipals\/[^/]+$/.test(l.path))
  return {
    firstRequestMs:
      log.length === 0 ? undefined : Math.round(Math.min(...log.map((l) => l.time)) - spawnedAt),
    collectedMs: last(ip.filter((l) => l.method === 'GET' && l.path.endsWith('/riskDetections'))),
    lastIdentityProtectionMs: last(ip),
    firstDirectoryWriteMs: (() => {
      const w = log.filter(isDirectoryWrite)
      return w.length === 0 ? undefined : Math.round(Math.min(...w.map((l) => l.time)) - spawnedAt)
    })(),
    lastWriteMs: last(
      log.filter((l) => l.method !== 'GET' && l.path.startsWith('/v1.0/') && !l.path.endsWith('/$batch')),
    ),
    lastReadBackMs: last(log.filter(isReadBack)),
    exitMs: Math.round(exitedAt - spawnedAt),
    identityProtectionRequests: ip.length,
  }
}

/** The node flags of the container's CMD: the bench runs the job exactly as the image does. */
async function containerNodeFlags() {
  const dockerfile = await readFile(join(ROOT, 'apps/runner/Dockerfile'), 'utf8')
  const argv = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]')
  return argv.slice(1, argv.indexOf('bundle/cli.mjs'))
}

async function tourniquet(n, SCALE, servicePrincipals = 0) {
  const { mock, server } = await startMock(n, SCALE, servicePrincipals)
  const setup = await jobSetup(server, servicePrincipals > 0 ? MIXED_POLICY : POLICY, SCALE)
  const { dir } = setup
  // The mixed row runs as the app that holds the workload permissions too.
  const env =
    servicePrincipals > 0
      ? { ...setup.env, AZURE_CLIENT_ID: WORKLOAD_APP_ID, AZURE_CLIENT_SECRET: WORKLOAD_APP_SECRET }
      : setup.env
  const flags = await containerNodeFlags()
  const started = performance.now()
  const spawnedAt = mock.now()
  const child = spawn(
    process.execPath,
    [...flags, join(ROOT, 'apps/runner/bundle/cli.mjs'), 'run', '--apply'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const { stdout, code } = await finished(child)
  const wallMs = performance.now() - started
  const timeline = timelineOf(mock.log, spawnedAt, mock.now())
  const summary = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .findLast((l) => l.event === 'summary')
  const http = mock.log.filter((l) => l.path.startsWith('/v1.0/') && l.batchId === undefined)
  const remediated = new Set(mock.tenant.actions.map((a) => a.userId)).size
  const writes = mock.tenant.actionsOf('revokeSignInSessions').length
  const detections = mock.tenant.detections.filter(
    (d) => d.riskEventType !== 'adminConfirmedUserCompromised',
  ).length
  const confirmed = mock.tenant.actionsOf('confirmCompromised').length
  const workloads = {
    riskyServicePrincipals: mock.tenant.riskyServicePrincipals.size,
    spDetections: mock.tenant.servicePrincipalDetections.length,
    spConfirmed: mock.tenant.actionsOf('sp:confirmCompromised').length,
    spWrites: mock.tenant.actionsOf('sp:disable').length,
    lastWorkloadWriteMs: (() => {
      const w = mock.log.filter((l) => l.method === 'PATCH' && l.path.startsWith('/v1.0/servicePrincipals/'))
      return w.length === 0
        ? undefined
        : Math.round(Math.max(...w.map((l) => l.time + l.durationMs)) - spawnedAt)
    })(),
  }
  await server.close()
  await rm(dir, { recursive: true, force: true })
  return {
    code,
    workloads,
    wallMs,
    summary,
    httpRequests: http.length,
    remediated,
    writes,
    detections,
    confirmed,
    timeline,
    throttled: mock.log.filter((l) => l.status === 429).length,
  }
}

/** The usual script: list, then one request per user per action, a fixed sleep on 429. */
async function baseline(n, SCALE) {
  const { mock, server } = await startMock(n, SCALE)
  const agent = new Agent({ connect: { ca: server.caPem } })
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
  const FIXED_SLEEP_MS = 5_000 / SCALE
  const call = async (method, url, body, token) => {
    for (;;) {
      const res = await request(url, {
        method,
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await res.body.text()
      if (res.statusCode === 429) {
        await sleep(FIXED_SLEEP_MS)
        continue
      }
      return text === '' ? undefined : JSON.parse(text)
    }
  }
  const started = performance.now()
  const tokenRes = await request(`${server.url}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: remediationTokenForm(),
  })
  const { access_token } = await tokenRes.body.json()
  const users = []
  let next = `${server.url}/v1.0/identityProtection/riskyUsers?$filter=${encodeURIComponent("riskLevel eq 'high'")}`
  while (next) {
    const page = await call('GET', next, undefined, access_token)
    users.push(...page.value)
    next = page['@odata.nextLink']
  }
  for (const u of users) {
    await call(
      'POST',
      `${server.url}/v1.0/identityProtection/riskyUsers/confirmCompromised`,
      { userIds: [u.id] },
      access_token,
    )
    await call('POST', `${server.url}/v1.0/users/${u.id}/revokeSignInSessions`, undefined, access_token)
  }
  const wallMs = performance.now() - started
  const http = mock.log.filter((l) => l.path.startsWith('/v1.0/'))
  await agent.close()
  await server.close()
  return {
    wallMs,
    httpRequests: http.length,
    throttled: mock.log.filter((l) => l.status === 429).length,
    remediated: users.length,
  }
}

/**
 * Defender for Identity lookups: a plan (no writes) of a policy that disables synced users at high
 * risk, so every such user needs its identity looked up by SID. Counts the HTTP requests those
 * lookups took ($batch, 20 a request, under their own budget) against one request per user.
 */
async function defenderLookups(n, SCALE) {
  const { mock, server } = await startMock(n, SCALE)
  const { dir, env } = await jobSetup(
    server,
    'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 1000000\nrules:\n  - name: synced\n    when: { riskLevel: [high], synced: true }\n    then: [disable]\n',
    SCALE,
  )
  const started = performance.now()
  const child = spawn(process.execPath, [join(ROOT, 'apps/runner/dist/cli.js'), 'run'], {
    env,
    stdio: ['ignore', 'ignore', 'ignore'],
  })
  const code = await new Promise((r) => child.on('close', r))
  const wallMs = performance.now() - started
  const lookups = mock.log.filter((l) => l.path === '/v1.0/security/identities/identityAccounts')
  const batches = new Set(lookups.map((l) => l.batchId ?? `direct-${l.id}`))
  const synced = [...mock.tenant.users.values()].filter((u) => u.onPremisesSyncEnabled === true).length
  await server.close()
  await rm(dir, { recursive: true, force: true })
  return {
    n,
    scale: SCALE,
    exitCode: code,
    syncedUsers: synced,
    lookups: lookups.length,
    httpRequests: batches.size,
    requestsPerSyncedUser: Number((batches.size / Math.max(1, lookups.length)).toFixed(3)),
    oneByOneRequestsPerSyncedUser: 1,
    throttled429: lookups.filter((l) => l.status === 429).length,
    wallMs: Math.round(wallMs),
  }
}

// Process start to the first request (start.mjs): the image's bundle with its compile cache, and the
// tsc dist with node_modules that the image ran before decision 016.
// BENCH_START_RUNS=0 skips it and keeps the figures of the last run that measured it.
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 11)
const previousStart = () => {
  try {
    const p = JSON.parse(readFileSync(join(RESULTS, 'bench.json'), 'utf8'))
    return Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith('processStart')))
  } catch {
    return {}
  }
}
const processStart = START_RUNS > 0 ? await measureProcessStart() : previousStart()

async function measureProcessStart() {
  process.stderr.write('process start...\n')
  const start = await measureStart(START_RUNS, await containerNodeFlags())
  process.stderr.write(`${JSON.stringify(start)}\n`)
  return {
    processStartMs: start.medianMs.bundleWithCache,
    processStartNoCacheMs: start.medianMs.bundle,
    processStartBaselineMs: start.medianMs.dist,
    processStartRuns: start.runs,
    ...(start.medianMs.beforeWithCache === undefined
      ? {}
      : { processStartBeforeMs: start.medianMs.beforeWithCache }),
  }
}

const rows = []
for (const n of SIZES) {
  const scale = SCALE_FOR(n)
  process.stderr.write(`N=${n}: Tourniquet at ${scale}x...\n`)
  const t = await tourniquet(n, scale)
  process.stderr.write(`N=${n}: baseline at ${BASELINE_SCALE}x...\n`)
  const b = await baseline(n, BASELINE_SCALE)
  const lb = lowerBound(
    { riskyUsers: n, detections: t.detections, confirmed: t.confirmed, writes: t.writes },
    scale,
  )
  const real = {
    tourniquet: (t.wallMs * scale) / 1000,
    baseline: (b.wallMs * BASELINE_SCALE) / 1000,
    lowerBound: (lb.ms * scale) / 1000,
  }
  rows.push({
    n,
    scale,
    baselineScale: BASELINE_SCALE,
    exitCode: t.code,
    wallMs: Math.round(t.wallMs),
    lowerBoundMs: Math.round(lb.ms),
    ratioToLowerBound: Number((t.wallMs / lb.ms).toFixed(2)),
    lowerBoundAnyOrderMs: Math.round(lb.anyOrderMs),
    ratioToAnyOrderBound: Number((t.wallMs / lb.anyOrderMs).toFixed(2)),
    baselineWallMs: Math.round(b.wallMs),
    speedupVsBaseline: Number((real.baseline / real.tourniquet).toFixed(1)),
    realGraphSeconds: {
      tourniquet: Math.round(real.tourniquet),
      baseline: Math.round(real.baseline),
      lowerBound: Math.round(real.lowerBound),
    },
    identityProtectionCalls: lb.ipCalls,
    identityProtectionCallsAssumedPages: lb.assumedPagesIpCalls,
    identityProtectionRequestsServed: t.timeline.identityProtectionRequests,
    timeline: t.timeline,
    requestsPerUser: Number((t.httpRequests / t.remediated).toFixed(3)),
    baselineRequestsPerUser: Number((b.httpRequests / b.remediated).toFixed(2)),
    throttled429: t.throttled,
    baselineThrottled429: b.throttled,
    peakRssMb: t.summary?.peakRssMb,
    succeeded: t.summary?.succeeded,
    failed: t.summary?.failed,
  })
  process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`)
}

/** The mixed row (issue #25): 10,000 risky users and 1,000 risky service principals, one run. */
async function mixedRow() {
  const scale = MIXED_SCALE
  process.stderr.write(
    `mixed: ${MIXED_USERS} users + ${MIXED_SERVICE_PRINCIPALS} service principals, Tourniquet at ${scale}x...\n`,
  )
  const t = await tourniquet(MIXED_USERS, scale, MIXED_SERVICE_PRINCIPALS)
  const lb = mixedLowerBound(
    {
      riskyUsers: MIXED_USERS,
      detections: t.detections,
      confirmed: t.confirmed,
      writes: t.writes,
      ...t.workloads,
    },
    scale,
  )
  const { lastWorkloadWriteMs, ...counts } = t.workloads
  return {
    users: MIXED_USERS,
    servicePrincipals: MIXED_SERVICE_PRINCIPALS,
    scale,
    exitCode: t.code,
    wallMs: Math.round(t.wallMs),
    lowerBoundMs: Math.round(lb.ms),
    ratioToLowerBound: Number((t.wallMs / lb.ms).toFixed(2)),
    identityProtectionChainMs: Math.round(lb.ipChainMs),
    directoryWriteChainMs: Math.round(lb.writeChainMs),
    realGraphSeconds: {
      tourniquet: Math.round((t.wallMs * scale) / 1000),
      lowerBound: Math.round((lb.ms * scale) / 1000),
    },
    identityProtectionCalls: lb.ipCalls,
    identityProtectionCallsByKind: lb.calls,
    identityProtectionRequestsServed: t.timeline.identityProtectionRequests,
    timeline: { ...t.timeline, lastWorkloadWriteMs },
    ...counts,
    confirmedUsers: t.confirmed,
    userWrites: t.writes,
    userDetections: t.detections,
    httpRequests: t.httpRequests,
    throttled429: t.throttled,
    peakRssMb: t.summary?.peakRssMb,
    succeeded: t.summary?.succeeded,
    failed: t.summary?.failed,
    unverified: t.summary?.unverified,
  }
}

const mixed = MIXED ? await mixedRow() : undefined
if (mixed) process.stderr.write(`${JSON.stringify(mixed)}\n`)

const MDI_N = Number(process.env.BENCH_MDI_SIZE ?? 10_000)
process.stderr.write(`Defender for Identity lookups at N=${MDI_N}...\n`)
const mdi = MDI_N > 0 ? await defenderLookups(MDI_N, SCALE_FOR(MDI_N)) : undefined
if (mdi) process.stderr.write(`${JSON.stringify(mdi)}\n`)

// The continuous scenario (issue #14): minutes of simulated watching; BENCH_CONTINUOUS=0 skips it.
const continuous =
  process.env.BENCH_CONTINUOUS === '0'
    ? undefined
    : await continuousScenario({
        cli: [process.execPath, ...(await containerNodeFlags()), join(ROOT, 'apps/runner/bundle/cli.mjs')],
        minutes: Number(process.env.BENCH_CONTINUOUS_MINUTES ?? 30),
        arrivals: Number(process.env.BENCH_CONTINUOUS_ARRIVALS ?? 40),
        log: (line) => process.stderr.write(`continuous ${line}\n`),
      })

const tableOf = (rows) =>
  [
    '| N | mock speed | wall (ms) | lower bound (ms) | ratio to lower bound | ratio to any-order bound | real-Graph s: Tourniquet / baseline / bound | speed-up vs baseline | requests/user | 429s | peak RSS (MB) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.n} | ${r.scale}x | ${r.wallMs} | ${r.lowerBoundMs} | ${r.ratioToLowerBound} | ${r.ratioToAnyOrderBound} | ${r.realGraphSeconds.tourniquet} / ${r.realGraphSeconds.baseline} / ${r.realGraphSeconds.lowerBound} | ${r.speedupVsBaseline}x | ${r.requestsPerUser} (baseline ${r.baselineRequestsPerUser}) | ${r.throttled429} (baseline ${r.baselineThrottled429}) | ${r.peakRssMb} |`,
    ),
  ].join('\n')

function svg() {
  const W = 640
  const H = 360
  const pad = 60
  const maxN = Math.max(...rows.map((r) => r.n))
  const maxY = Math.max(
    ...rows.map((r) =>
      Math.max(r.realGraphSeconds.baseline, r.realGraphSeconds.tourniquet, r.realGraphSeconds.lowerBound),
    ),
  )
  const x = (n) => pad + ((W - 2 * pad) * n) / maxN
  const y = (ms) => H - pad - ((H - 2 * pad) * ms) / maxY
  const series = [
    ['Tourniquet', '#c0392b', (r) => r.realGraphSeconds.tourniquet],
    ['naive baseline', '#7f8c8d', (r) => r.realGraphSeconds.baseline],
    ['lower bound', '#27ae60', (r) => r.realGraphSeconds.lowerBound],
  ]
  const lines = series.map(([name, color, f], i) => {
    const pts = [[0, 0], ...rows.map((r) => [r.n, f(r)])]
      .map(([n, v]) => `${x(n).toFixed(1)},${y(v).toFixed(1)}`)
      .join(' ')
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/><text x="${W - pad - 150}" y="${pad + 18 * i}" fill="${color}" font-size="13">${name}</text>`
  })
  const ticks = rows.map(
    (r) => `<text x="${x(r.n)}" y="${H - pad + 18}" font-size="11" text-anchor="middle">${r.n}</text>`,
  )
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="24" font-size="15" text-anchor="middle">Wall time vs risky users, in real-Graph seconds</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="black"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="black"/>
<text x="${W / 2}" y="${H - 16}" font-size="12" text-anchor="middle">risky users (N)</text>
<text x="18" y="${H / 2}" font-size="12" transform="rotate(-90 18 ${H / 2})" text-anchor="middle">seconds at Graph's limits</text>
<text x="${pad - 6}" y="${pad}" font-size="11" text-anchor="end">${maxY}</text>
${ticks.join('\n')}
${lines.join('\n')}
</svg>
`
}

mkdirSync(RESULTS, { recursive: true })
// Keep the rows of sizes not measured this time (BENCH_SIZES may name one), newest wins.
try {
  const previous = JSON.parse(readFileSync(join(RESULTS, 'bench.json'), 'utf8')).results ?? []
  for (const row of previous) if (!rows.some((r) => r.n === row.n)) rows.push(row)
  rows.sort((a, b) => a.n - b.n)
} catch {
  // No earlier results.
}
// The continuous results and the mixed row of an earlier run stay when this one skipped them.
let previousContinuous
let previousMixed
try {
  const previous = JSON.parse(readFileSync(join(RESULTS, 'bench.json'), 'utf8'))
  previousContinuous = previous.continuous
  previousMixed = previous.mixed
} catch {
  // No earlier results.
}
const mixedResult = mixed ?? previousMixed
writeFileSync(
  join(RESULTS, 'bench.json'),
  `${JSON.stringify({ node: process.version, latencyMs: LATENCY_MS, baselineScale: BASELINE_SCALE, results: rows, mixed: mixedResult, defenderLookups: mdi, ...processStart, continuous: previousContinuous }, null, 2)}\n`,
)
const mdiLine = mdi
  ? `\nDefender for Identity lookups (N = ${mdi.n}, plan of a synced-user disable): ${mdi.lookups} users looked up in ${mdi.httpRequests} HTTP requests, ${mdi.requestsPerSyncedUser} requests per synced user (one by one: 1), ${mdi.throttled429} 429s, ${mdi.wallMs} ms at ${mdi.scale}x.\n`
  : ''
const beforeStart =
  processStart.processStartBeforeMs === undefined
    ? ''
    : ` The build named by BENCH_START_BEFORE, measured alongside: ${processStart.processStartBeforeMs} ms.`
const startLine = `\nProcess start to the first request (median of ${processStart.processStartRuns}): ${processStart.processStartMs} ms for the image's bundle with its compile cache (${processStart.processStartNoCacheMs} ms without), ${processStart.processStartBaselineMs} ms for the tsc dist with node_modules.${beforeStart}\n`
const timelineTable = [
  '',
  "Timeline of each Tourniquet run (ms from the process's spawn; from the mock's request log), and Identity Protection requests served against the bound's count:",
  '',
  '| N | first request | collection read | last Identity Protection | last write | last read-back | exit | IP requests served / bound / bound before #24 |',
  '|---|---|---|---|---|---|---|---|',
  ...rows
    .filter((r) => r.timeline)
    .map(
      (r) =>
        `| ${r.n} | ${r.timeline.firstRequestMs} | ${r.timeline.collectedMs} | ${r.timeline.lastIdentityProtectionMs} | ${r.timeline.lastWriteMs} | ${r.timeline.lastReadBackMs} | ${r.timeline.exitMs} | ${r.identityProtectionRequestsServed} / ${r.identityProtectionCalls} / ${r.identityProtectionCallsAssumedPages} |`,
    ),
  '',
].join('\n')
const mixedTable = mixedResult
  ? [
      '',
      `Mixed tenant (issue #25): ${mixedResult.users} risky users (as the 10000 row) and ${mixedResult.servicePrincipals} risky service principals with ${mixedResult.spDetections} detections in one run, mock at ${mixedResult.scale}x; policy: the users' rule, and service principals at high risk -> confirmCompromised + disable. The bound counts both kinds' Identity Protection requests on the one shared budget and both kinds' writes on the one directory budget (bench.mjs, mixedLowerBound):`,
      '',
      '| users + service principals | wall (ms) | lower bound (ms): IP chain / write chain | ratio to lower bound | real-Graph s: Tourniquet / bound | IP requests served / bound | 429s | succeeded / unverified / failed | peak RSS (MB) |',
      '|---|---|---|---|---|---|---|---|---|',
      `| ${mixedResult.users} + ${mixedResult.servicePrincipals} | ${mixedResult.wallMs} | ${mixedResult.lowerBoundMs}: ${mixedResult.identityProtectionChainMs} / ${mixedResult.directoryWriteChainMs} | ${mixedResult.ratioToLowerBound} | ${mixedResult.realGraphSeconds.tourniquet} / ${mixedResult.realGraphSeconds.lowerBound} | ${mixedResult.identityProtectionRequestsServed} / ${mixedResult.identityProtectionCalls} | ${mixedResult.throttled429} | ${mixedResult.succeeded} / ${mixedResult.unverified} / ${mixedResult.failed} | ${mixedResult.peakRssMb} |`,
      '',
      '| first request | users collected | first directory write | last Identity Protection | last write | last service principal write | last read-back | exit |',
      '|---|---|---|---|---|---|---|---|',
      `| ${mixedResult.timeline.firstRequestMs} | ${mixedResult.timeline.collectedMs} | ${mixedResult.timeline.firstDirectoryWriteMs} | ${mixedResult.timeline.lastIdentityProtectionMs} | ${mixedResult.timeline.lastWriteMs} | ${mixedResult.timeline.lastWorkloadWriteMs} | ${mixedResult.timeline.lastReadBackMs} | ${mixedResult.timeline.exitMs} |`,
      '',
    ].join('\n')
  : ''
const table = `${tableOf(rows)}\n${timelineTable}${mixedTable}${mdiLine}${startLine}`
const previousSection = (() => {
  try {
    const md = readFileSync(join(RESULTS, 'bench.md'), 'utf8')
    const at = md.indexOf('Continuous containment')
    return at < 0 ? '' : `\n${md.slice(at)}`
  } catch {
    return ''
  }
})()
writeFileSync(join(RESULTS, 'bench.md'), `${table}\n${continuous ? '' : previousSection}`)
writeFileSync(join(RESULTS, 'bench.svg'), svg())
if (continuous) writeContinuous(RESULTS, continuous)
console.log(table)
if (continuous) console.log(`\n${continuous.markdown}`)
