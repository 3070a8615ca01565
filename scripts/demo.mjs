// Quick-start demo, no Azure and no credentials: starts the fake tenant (@tourniquet/mock-graph) on
// a loopback HTTPS port with its own CA, and reads its risk signals with the real Graph client
// (@tourniquet/core), through msal, the throttled pipeline and paging, exactly as against Graph.
// The remediation job (plan, apply, verify, audit) arrives with apps/runner; this demo only reads.
import { createGraphClient } from '@tourniquet/core'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
  serveMock,
} from '@tourniquet/mock-graph'

const started = performance.now()
const mock = createMockGraph({ scenario: 'demo' })
const server = await serveMock(mock)
const graph = createGraphClient({
  tenantId: DEFAULT_TENANT_ID,
  clientId: REMEDIATION_APP_ID,
  credential: { kind: 'secret', clientSecret: REMEDIATION_APP_SECRET },
  authorityHost: server.url,
  graphRoot: server.url,
  transport: { ca: server.caPem },
})

try {
  console.log(
    `Tourniquet demo: fake tenant 'demo' at ${server.url} (Identity Protection limited to 1 request/s, as in Graph)`,
  )
  const since = new Date(Date.now() - 7 * 86_400_000)
  const signals = new Map()
  for await (const d of graph.riskDetections.list({ since })) {
    const list = signals.get(d.userId) ?? []
    list.push(d.riskEventType)
    signals.set(d.userId, list)
  }
  const rows = []
  for await (const u of graph.riskyUsers.list({ riskStates: ['atRisk'] })) {
    rows.push({
      user: u.userPrincipalName ?? u.id,
      risk: u.riskLevel,
      detections: (signals.get(u.id) ?? []).join(', ') || '(none in 7 days)',
    })
  }
  const width = Math.max(...rows.map((r) => r.user.length))
  console.log(`\n  ${'user'.padEnd(width)}  risk    detections (last 7 days)`)
  for (const r of rows) console.log(`  ${r.user.padEnd(width)}  ${r.risk.padEnd(6)}  ${r.detections}`)
  const graphCalls = mock.log.filter((l) => l.path.startsWith('/v1.0/')).length
  const tokenCalls = mock.log.filter((l) => l.path.endsWith('/oauth2/v2.0/token')).length
  const throttled = mock.log.filter((l) => l.status === 429).length
  console.log(
    `\nRan: ${tokenCalls} token request, ${graphCalls} Graph requests (${throttled} throttled) in ${Math.round(performance.now() - started)} ms.`,
  )
  console.log(
    'Read-only: deciding and acting by policy comes with the runner (tourniquet run / run --apply).',
  )
} finally {
  await graph.close()
  await server.close()
}
