// One apply of the built CLI against a generated tenant of N risky users on loopback HTTPS, with
// Graph's real limits (Identity Protection 1 request/s, directory writes 3,000 per 150 s).
// Reports wall time, requests per remediated user, 429s and the runner's peak RSS.
// Run: node bench/scenario.mjs [N]   (from test/, after pnpm build)
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  generateTenant,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
  serveMock,
} from '@tourniquet/mock-graph'

const N = Number(process.argv[2] ?? 1000)
const ROOT = join(import.meta.dirname, '..', '..')
const dir = await mkdtemp(join(tmpdir(), 'tq-bench-'))
const mock = createMockGraph({
  tenant: generateTenant({ riskyUsers: N, seed: 1, highShare: 1, detectionsPerUser: [1, 3] }),
})
const server = await serveMock(mock)
await writeFile(join(dir, 'ca.pem'), server.caPem)
const policy = join(dir, 'policy.yaml')
await writeFile(
  policy,
  'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 100000\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [confirmCompromised, revokeSessions]\n',
)
const env = {
  PATH: process.env.PATH,
  NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
  AZURE_TENANT_ID: DEFAULT_TENANT_ID,
  AZURE_CLIENT_ID: REMEDIATION_APP_ID,
  AZURE_CLIENT_SECRET: REMEDIATION_APP_SECRET,
  AZURE_AUTHORITY_HOST: server.url,
  TOURNIQUET_GRAPH_URL: server.url,
  TOURNIQUET_POLICY: policy,
  TOURNIQUET_LEDGER: join(dir, 'ledger.jsonl'),
  TOURNIQUET_MAX_RUNTIME: 'PT2H',
}
const started = performance.now()
const child = spawn(process.execPath, [join(ROOT, 'apps/runner/dist/cli.js'), 'run', '--apply'], {
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
})
let stdout = ''
child.stdout.on('data', (d) => (stdout += d))
child.stderr.resume()
const code = await new Promise((r) => child.on('close', r))
const wallMs = performance.now() - started
const summary = stdout
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l))
  .findLast((l) => l.event === 'summary')
// HTTP requests to Graph (a $batch counts once), and Graph operations (each $batch item counts).
const graph = mock.log.filter((l) => l.path.startsWith('/v1.0/') && l.batchId === undefined)
const operations = mock.log.filter((l) => l.path.startsWith('/v1.0/') && l.path !== '/v1.0/$batch')
const remediated = new Set(mock.tenant.actions.map((a) => a.userId)).size
console.log(
  JSON.stringify(
    {
      n: N,
      exit: code,
      wallMs: Math.round(wallMs),
      remediatedUsers: remediated,
      httpRequests: graph.length,
      httpRequestsPerUser: Number((graph.length / remediated).toFixed(3)),
      graphOperationsPerUser: Number((operations.length / remediated).toFixed(2)),
      throttled429: mock.log.filter((l) => l.status === 429).length,
      peakRssMb: summary.peakRssMb,
      succeeded: summary.succeeded,
      failed: summary.failed,
      unverified: summary.unverified,
    },
    null,
    2,
  ),
)
await server.close()
await rm(dir, { recursive: true, force: true })
