// Requests per second the mock serves on loopback (HTTP and HTTPS), limits off, 16 keep-alive
// connections, 5 s per run. Run: pnpm --filter @tourniquet/mock-graph bench
import { mkdirSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'undici'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  generateTenant,
  remediationTokenForm,
  serveMock,
} from '../dist/index.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = 16

async function run(https) {
  const mock = createMockGraph({
    tenant: generateTenant({ riskyUsers: 2_000, seed: 1 }),
    limits: { enabled: false },
  })
  const server = await serveMock(mock, { https })
  const agent = new Agent({
    connections: CONNECTIONS,
    pipelining: 1,
    connect: server.caPem ? { ca: server.caPem } : {},
  })
  const tokenRes = await request(`${server.url}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: remediationTokenForm(),
  })
  const { access_token } = await tokenRes.body.json()
  const ids = [...mock.tenant.users.keys()]
  let done = 0
  let errors = 0
  const end = performance.now() + SECONDS * 1000
  const worker = async (w) => {
    let i = w
    while (performance.now() < end) {
      const id = ids[i++ % ids.length]
      const res = await request(`${server.url}/v1.0/users/${id}?$select=id,accountEnabled`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${access_token}` },
      })
      await res.body.text()
      if (res.statusCode === 200) done++
      else errors++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)))
  const seconds = (performance.now() - started) / 1000
  await agent.close()
  await server.close()
  return {
    transport: https ? 'https' : 'http',
    requests: done,
    errors,
    seconds: Number(seconds.toFixed(2)),
    requestsPerSecond: Math.round(done / seconds),
  }
}

const results = [await run(false), await run(true)]
console.log('| transport | requests | errors | seconds | requests/s |')
console.log('|---|---|---|---|---|')
for (const r of results)
  console.log(`| ${r.transport} | ${r.requests} | ${r.errors} | ${r.seconds} | ${r.requestsPerSecond} |`)
mkdirSync('bench/results', { recursive: true })
writeFileSync(
  'bench/results/throughput.json',
  `${JSON.stringify({ node: process.version, connections: CONNECTIONS, results }, null, 2)}\n`,
)
