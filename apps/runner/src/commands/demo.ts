/**
 * `tourniquet demo`: the real job against a fake tenant on loopback HTTPS, no Azure and no
 * credentials. It plans, shows the plan, applies it, and shows what was verified and where the
 * audit went. The mock (and its CA) is loaded only here.
 */
import { createWriteStream, existsSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { GraphClient } from '@tourniquet/core'
import type { MockGraph } from '@tourniquet/mock-graph'
import { clientFromConfig, credentialFor } from '../engine/client.js'
import { loadConfig, type RunnerConfig } from '../env.js'
import { EXIT } from '../exit.js'
import { runJob } from './run.js'

type MockGraphModule = typeof import('@tourniquet/mock-graph')

export async function runDemo(options: { scenario?: string | undefined }): Promise<number> {
  const started = performance.now()
  const mockGraph = await loadMockGraph()
  if (!mockGraph) return EXIT.configuration
  const scenario = options.scenario ?? 'workload-identities'
  if (!(mockGraph.SCENARIO_NAMES as readonly string[]).includes(scenario)) {
    process.stderr.write(
      `tourniquet: --scenario: unknown '${scenario}'; expected one of ${mockGraph.SCENARIO_NAMES.join(', ')}\n`,
    )
    return EXIT.configuration
  }
  const policyPath = fileURLToPath(new URL('../../../../examples/policy.yaml', import.meta.url))
  if (!existsSync(policyPath)) {
    process.stderr.write(
      `tourniquet: the demo policy ${policyPath} is missing (run the demo from a clone of the repository)\n`,
    )
    return EXIT.configuration
  }
  const workloads = scenario === 'workload-identities'
  const demoPolicy = await withGuestApproval(
    policyPath,
    join(await mkdtemp(join(tmpdir(), 'tourniquet-demo-policy-')), 'policy.yaml'),
    workloads ? workloadSection(mockGraph) : '',
  )
  const mock = mockGraph.createMockGraph({ scenario: scenario as never })
  const server = await mockGraph.serveMock(mock)
  const dir = await mkdtemp(join(tmpdir(), 'tourniquet-demo-'))
  const config = demoConfig(mockGraph, server.url, demoPolicy, dir, workloads)
  const client = clientFromConfig(config, await credentialFor(config), { ca: server.caPem })
  try {
    say(
      `Tourniquet demo: fake tenant '${scenario}' at ${server.url} — Identity Protection limited to 1 request/s, as in Graph.`,
    )
    return await planThenApply(mock, config, client, join(dir, 'audit.jsonl'), started)
  } finally {
    await client.close()
    await server.close()
  }
}

/**
 * The example policy, with the guest rule's disable waiting for approval: the demo shows a request,
 * its approval and the run that acts on it. The file itself stays as it is.
 */
async function withGuestApproval(policyPath: string, target: string, extra: string): Promise<string> {
  const text = await readFile(policyPath, 'utf8')
  const guest = /(- name: high-risk-guest[\s\S]*?\n(\s+)then: \[disable\]\n)/
  await writeFile(
    target,
    text.replace(
      guest,
      (_m, rule: string, indent: string) => `${rule}${indent}requireApproval: [disable]\n`,
    ) + extra,
  )
  return target
}

/**
 * The README's workload-identity example: this tenant's apps whose credentials leaked are confirmed
 * compromised and disabled, and the credentials added within the lookback are removed once a person
 * approves (the default for removeCredentials). The payroll connector is excluded by its appId.
 */
function workloadSection(mockGraph: MockGraphModule): string {
  return `
servicePrincipals:
  exclude:
    servicePrincipals: [${mockGraph.WORKLOAD_IDS.excluded.appId}]
  rules:
    - name: leaked-app-credentials
      when: { riskLevel: [high], detections: { anyOf: [leakedCredentials] }, appOwner: [thisTenant] }
      then: [confirmCompromised, disable, removeCredentials]
      removeCredentials: { which: addedWithinLookback, from: [application, servicePrincipal] }
`
}

const say = (s: string): void => {
  process.stdout.write(`${s}\n`)
}

/** The mock is an optional dependency: an installation may leave it out. */
async function loadMockGraph(): Promise<MockGraphModule | undefined> {
  try {
    return await import('@tourniquet/mock-graph')
  } catch {
    process.stderr.write(
      'tourniquet: the demo needs @tourniquet/mock-graph, which this installation left out\n',
    )
    return undefined
  }
}

/** The settings the container would get, read by the same code; only the CA is added in code. */
function demoConfig(
  mockGraph: MockGraphModule,
  url: string,
  policyPath: string,
  dir: string,
  workloads: boolean,
): RunnerConfig {
  // With workload identities the demo signs in as the app that also holds their permissions.
  const app = workloads
    ? { id: mockGraph.WORKLOAD_APP_ID, secret: mockGraph.WORKLOAD_APP_SECRET }
    : { id: mockGraph.REMEDIATION_APP_ID, secret: mockGraph.REMEDIATION_APP_SECRET }
  return loadConfig(
    {},
    {
      AZURE_TENANT_ID: mockGraph.DEFAULT_TENANT_ID,
      AZURE_CLIENT_ID: app.id,
      AZURE_CLIENT_SECRET: app.secret,
      AZURE_AUTHORITY_HOST: url,
      TOURNIQUET_GRAPH_URL: url,
      TOURNIQUET_POLICY: policyPath,
      TOURNIQUET_LEDGER: join(dir, 'ledger.jsonl'),
      TOURNIQUET_REPORT: join(dir, 'report.md'),
    },
  )
}

async function planThenApply(
  mock: MockGraph,
  config: RunnerConfig,
  client: GraphClient,
  auditPath: string,
  started: number,
): Promise<number> {
  const auditFile = createWriteStream(auditPath)
  const job = { config, client, out: auditFile, err: process.stdout, verify: { delayMs: 500 } }
  say(
    `Policy: examples/policy.yaml, where disabling a guest also waits for a person's approval, with a servicePrincipals section when the tenant has workload identities (removing an app's credentials waits for approval too). Step 1: plan (a dry run; nothing changes).`,
  )
  const plan = await runJob(job)
  say('\nStep 2: apply the same plan, then read every effect back from the tenant.')
  const apply = { ...job, config: { ...config, mode: 'apply' as const } }
  const applied = await runJob(apply)
  say('\nStep 3: a person approves what waits (tourniquet approve --run ... --all --by ...).')
  const { decide } = await import('./approvals.js')
  await decide(
    config,
    { runId: applied.runId, all: true, by: 'demo-approver', reason: 'demo' },
    'approved',
    process.stdout,
    process.stderr,
  )
  say('\nStep 4: the next run acts on the approved step, once.')
  const approved = await runJob(apply)
  const graphCalls = mock.log.filter((l) => l.path.startsWith('/v1.0/')).length
  const throttled = mock.log.filter((l) => l.status === 429).length
  const { tenant } = mock
  const nameOf = (id: string): string =>
    tenant.users.get(id)?.userPrincipalName ??
    tenant.servicePrincipals.get(id)?.displayName ??
    tenant.applications.get(id)?.displayName ??
    id
  const changed = tenant.actions.map((a) => `${a.kind} ${nameOf(a.userId)}`)
  say(`\nThe tenant now shows: ${changed.length === 0 ? 'no change' : changed.join('; ')}.`)
  say(
    `Requests: ${graphCalls} to Graph (${throttled} throttled). Time: ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  )
  say(`Audit (JSON lines, as shipped to Log Analytics): ${auditPath}`)
  say(`Ledger: ${config.ledger}   Report: ${config.reportPath}`)
  await new Promise<void>((r) => auditFile.end(r))
  return Math.max(plan.exitCode, applied.exitCode, approved.exitCode)
}
