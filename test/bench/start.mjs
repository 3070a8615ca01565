// Process start to the first request on the wire, for the ways the runner can be started:
//   node test/bench/start.mjs [RUNS]     (default 15; prints JSON, medians in ms)
// The job is spawned against the mock tenant on loopback HTTPS (as the e2e suites do); the clock
// stops when the mock receives its first request (the token request that precedes every Graph
// call), and the child is then ended. Variants: the bundle with a V8 compile cache written
// beforehand (what the image does at build time), the bundle without one, and the tsc dist with
// node_modules (what the image ran before decision 016).
import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createMockGraph, generateTenant, serveMock } from '@tourniquet/mock-graph'
import { jobSetup } from './job.mjs'

const ROOT = join(import.meta.dirname, '..', '..')
export const BUNDLE = join(ROOT, 'apps/runner/bundle/cli.mjs')
export const DIST = join(ROOT, 'apps/runner/dist/cli.js')
const POLICY =
  'version: 1\nlookback: PT48H\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [revokeSessions]\n'

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Medians over `runs` starts of each variant, interleaved so machine noise falls on all alike. */
export async function measureStart(runs = 15, nodeFlags = [], before = process.env.BENCH_START_BEFORE) {
  const mock = createMockGraph({ tenant: generateTenant({ riskyUsers: 1, seed: 1 }) })
  let first
  const handle = mock.handle.bind(mock)
  mock.handle = (request) => {
    first ??= Date.now()
    return handle(request)
  }
  const server = await serveMock(mock)
  // The job's environment at Graph's own pace (the clock stops at its first request anyway).
  const { dir, env } = await jobSetup(server, POLICY, 1)
  const cache = join(dir, 'compile-cache')
  const once = async (cli, extraEnv) => {
    first = undefined
    const started = Date.now()
    const child = spawn(process.execPath, [...nodeFlags, cli, 'run'], {
      env: { ...env, ...extraEnv },
      stdio: 'ignore',
    })
    const exited = new Promise((r) => child.on('close', r))
    while (first === undefined && child.exitCode === null) await new Promise((r) => setTimeout(r, 1))
    child.kill('SIGKILL')
    await exited
    if (first === undefined) throw new Error(`${cli} exited before its first request`)
    return first - started
  }
  // The image writes its cache by starting the bundle once at build time; so does this.
  const warm = (cli, at) =>
    new Promise((r) =>
      spawn(process.execPath, [cli, '--help'], { env: { NODE_COMPILE_CACHE: at }, stdio: 'ignore' }).on(
        'close',
        r,
      ),
    )
  await warm(BUNDLE, cache)
  // BENCH_START_BEFORE: another build's bundle (e.g. the main branch's), measured alongside with a
  // cache of its own, so a change's effect on the start is read in one run.
  const beforeCache = join(dir, 'compile-cache-before')
  if (before) await warm(before, beforeCache)
  const samples = { bundleWithCache: [], bundle: [], dist: [], ...(before ? { beforeWithCache: [] } : {}) }
  for (let i = 0; i < runs; i++) {
    samples.bundleWithCache.push(await once(BUNDLE, { NODE_COMPILE_CACHE: cache }))
    if (before) samples.beforeWithCache.push(await once(before, { NODE_COMPILE_CACHE: beforeCache }))
    samples.bundle.push(await once(BUNDLE, {}))
    samples.dist.push(await once(DIST, {}))
  }
  await server.close()
  await rm(dir, { recursive: true, force: true })
  return {
    runs,
    node: process.version,
    medianMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
    minMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.min(...v)])),
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.argv[2] ?? 15)
  console.log(JSON.stringify(await measureStart(runs), null, 2))
}
