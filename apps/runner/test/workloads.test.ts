/**
 * The workload stage (engine/workloads/): its ledger lines and what they make of the next run, the
 * approvals gate over a workload step, undo's view of a run, and whole runs in-process against the
 * fake tenant's workload identities.
 */
import { generateTenant, WORKLOAD_APP_ID, WORKLOAD_APP_SECRET, WORKLOAD_IDS } from '@tourniquet/mock-graph'
import type { ServicePrincipalStep } from '@tourniquet/policy'
import { parsePolicy } from '@tourniquet/policy'
import { afterEach, describe, expect, it } from 'vitest'
import { gate } from '../src/approvals/gate.js'
import { capCouldRefuse } from '../src/engine/workloads/collect.js'
import { consultWorkloadLedger, workloadEntry } from '../src/engine/workloads/ledger.js'
import { workloadUndo } from '../src/engine/workloads/undo.js'
import { ledgerText, parseLedgerLines } from '../src/ledger/ledger.js'
import { InProcessTenant, MemoryLedger } from './support/tenant.js'

const SP = '5b1e0000-0000-4000-a000-0000000005b1'

function step(
  action: ServicePrincipalStep['action'],
  extra: Partial<ServicePrincipalStep> = {},
): ServicePrincipalStep {
  const route: ServicePrincipalStep['route'] =
    action === 'removeCredentials'
      ? {
          kind: 'application',
          call: 'removeCredentials',
          objectId: 'a0',
          credentials: [{ kind: 'password', keyId: 'k1', hint: 'Xyz' }],
        }
      : action === 'confirmCompromised' || action === 'dismissRisk'
        ? { kind: 'workloadIdentityProtection', call: action === 'dismissRisk' ? 'dismiss' : action }
        : { kind: 'servicePrincipal', call: action }
  return {
    subject: 'servicePrincipal',
    servicePrincipalId: SP,
    appId: 'app-1',
    displayName: 'contoso-build',
    rule: 'leaked',
    action,
    route,
    evidenceKey: 'ek1',
    evidence: ['d1'],
    undoable: action !== 'removeCredentials',
    ...extra,
  }
}

describe('workload ledger lines', () => {
  it('a step settled as succeeded or unverified is done for its evidence; a failed one is not', () => {
    const entries = [
      workloadEntry('r1', step('disable'), 'intent'),
      workloadEntry('r1', step('disable'), 'done', { outcome: 'succeeded' }),
      workloadEntry('r1', step('confirmCompromised'), 'done', { outcome: 'failed' }),
    ]
    const view = consultWorkloadLedger([step('disable'), step('confirmCompromised')], entries)
    expect(view.done.map((d) => d.step.action)).toEqual(['disable'])
    expect(view.todo.map((s) => s.action)).toEqual(['confirmCompromised'])
    // New evidence is a new step.
    expect(consultWorkloadLedger([step('disable', { evidenceKey: 'ek2' })], entries).todo).toHaveLength(1)
  })

  it('two removals of one app (application and service principal) are two steps, not one', () => {
    const app = step('removeCredentials')
    const sp = step('removeCredentials', {
      route: { kind: 'servicePrincipal', call: 'removeCredentials', objectId: SP, credentials: [] },
    })
    const entries = [workloadEntry('r1', app, 'done', { outcome: 'succeeded' })]
    expect(consultWorkloadLedger([app, sp], entries).todo).toEqual([sp])
  })

  it('round-trips subject and credentials through the checked format, and old user lines still parse', () => {
    const line = workloadEntry('r1', step('removeCredentials'), 'done', {
      outcome: 'succeeded',
      credentials: [{ kind: 'password', keyId: 'k1', hint: 'Xyz', displayName: 'attacker' }],
    })
    const old =
      '{"runId":"r0","at":"2026-01-01T00:00:00.000Z","phase":"done","userId":"u1","userPrincipalName":"a@b","action":"disable","evidenceKey":"e","route":"entra:disable","outcome":"succeeded"}\n'
    const parsed = parseLedgerLines(old + ledgerText([line]), 'test')
    expect(parsed[0]?.subject).toBeUndefined()
    expect(parsed[1]).toMatchObject({
      subject: { kind: 'servicePrincipal', appId: 'app-1', objectId: 'a0' },
      credentials: [{ kind: 'password', keyId: 'k1', hint: 'Xyz' }],
    })
  })
})

describe('undo of a run with workload steps', () => {
  it('re-enables what the run disabled and keeps its credential removals as not undoable', () => {
    const entries = [
      workloadEntry('r1', step('disable'), 'done', { outcome: 'succeeded' }),
      workloadEntry('r1', step('removeCredentials'), 'done', {
        outcome: 'succeeded',
        credentials: [{ kind: 'password', keyId: 'k1' }],
      }),
      workloadEntry('r2', step('disable', { servicePrincipalId: 'other' }), 'done', { outcome: 'succeeded' }),
    ]
    const undo = workloadUndo(entries, 'r1')
    expect(undo.enable.map((s) => [s.servicePrincipalId, s.action, s.route])).toEqual([
      [SP, 'enable', { kind: 'servicePrincipal', call: 'enable' }],
    ])
    expect(undo.removed.map((e) => e.credentials)).toEqual([[{ kind: 'password', keyId: 'k1' }]])
  })
})

describe('the approvals gate over a workload step', () => {
  it('writes a request naming the service principal and the workload route, and sends once approved', () => {
    const s = {
      ...step('removeCredentials'),
      userId: SP,
      userPrincipalName: 'contoso-build',
      approval: { timeoutMs: 3_600_000, onTimeout: 'skip' as const },
    }
    const now = new Date('2026-12-01T10:00:00.000Z')
    const ctx = {
      runId: 'r1',
      now,
      evidenceOf: () => ['leakedCredentials'],
      routeOf: () => 'application:removeCredentials',
    }
    const asked = gate([s], { requests: [], decisions: [] }, ctx)
    expect(asked.waiting[0]?.request).toMatchObject({ userId: SP, route: 'application:removeCredentials' })
    const request = asked.waiting[0]?.request
    const decision = {
      type: 'decision' as const,
      at: now.toISOString(),
      runId: 'r1',
      userId: SP,
      userPrincipalName: 'contoso-build',
      action: 'removeCredentials',
      evidenceKey: 'ek1',
      detections: ['d1'],
      decision: 'approved' as const,
      by: 'someone',
    }
    const approved = gate([s], { requests: request ? [request] : [], decisions: [decision] }, ctx)
    expect(approved.send).toEqual([s])
  })
})

const POLICY = `version: 1
lookback: PT24H
rules:
  - name: none
    when: { riskLevel: [high], detections: { anyOf: [neverSeen] } }
    then: [revokeSessions]
servicePrincipals:
  exclude: { servicePrincipals: [${WORKLOAD_IDS.excluded.spId}] }
  approvals: { require: [] }
  rules:
    - name: leaked
      when: { riskLevel: [high], detections: { anyOf: [leakedCredentials] }, appOwner: [thisTenant] }
      then: [confirmCompromised, disable, removeCredentials]
`

describe('workload runs in-process', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('plan, apply, apply: each write once, read back, and nothing repeated', async () => {
    t = await InProcessTenant.start({ scenario: 'workload-identities' }, POLICY, {
      id: WORKLOAD_APP_ID,
      secret: WORKLOAD_APP_SECRET,
    })
    const ledger = new MemoryLedger()
    const planned = await t.run('plan', { ledger })
    expect(planned.exitCode).toBe(0)
    expect(t.mock.tenant.actions).toEqual([])
    const applied = await t.run('apply', { ledger })
    expect(applied.exitCode).toBe(0)
    const sp = applied.records.filter((r) => r.subject === 'servicePrincipal' && r.status === 'succeeded')
    expect(sp.map((r) => r.action).sort()).toEqual([
      'confirmCompromised',
      'disable',
      'removeCredentials',
      'removeCredentials',
    ])
    const writes = t.mock.tenant.actions.length
    const again = await t.run('apply', { ledger })
    expect(again.exitCode).toBe(0)
    expect(again.records.filter((r) => r.status === 'succeeded')).toEqual([])
    expect(t.mock.tenant.actions.length).toBe(writes)
    const confirms = t.mock.log.filter((l) => l.path.endsWith('/riskyServicePrincipals/confirmCompromised'))
    expect(confirms.map((l) => (l.body as { servicePrincipalIds: string[] }).servicePrincipalIds)).toEqual([
      [WORKLOAD_IDS.singleTenant.spId],
    ])
  })
})

/** Users at high risk and service principals at high risk, both contained in one run. */
const MIXED_POLICY = `version: 1
lookback: PT48H
limits: { maxActionsPerRun: 100000 }
rules:
  - name: high
    when: { riskLevel: [high] }
    then: [confirmCompromised, revokeSessions]
servicePrincipals:
  limits: { maxActionsPerRun: 100000 }
  rules:
    - name: high
      when: { riskLevel: [high] }
      then: [confirmCompromised, disable]
`

describe('a mixed tenant in-process (users and service principals in one run)', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  const mixed = (servicePrincipals: number) =>
    InProcessTenant.start(
      {
        tenant: generateTenant({ riskyUsers: 150, seed: 5, highShare: 1, servicePrincipals }),
      },
      MIXED_POLICY,
      { id: WORKLOAD_APP_ID, secret: WORKLOAD_APP_SECRET },
    )

  it("reads the service principals' detections while the users' steps go out, not before or after them", async () => {
    t = await mixed(100)
    const applied = await t.run('apply')
    expect(applied.exitCode).toBe(0)
    const log = t.mock.log
    const spDetections = log.filter((l) =>
      l.path.endsWith('/identityProtection/servicePrincipalRiskDetections'),
    )
    expect(spDetections.length).toBeGreaterThan(2)
    const userConfirms = log.filter((l) =>
      l.path.endsWith('/identityProtection/riskyUsers/confirmCompromised'),
    )
    const ids = (entries: typeof log) => entries.map((l) => l.id)
    expect(userConfirms.length).toBeGreaterThan(1)
    // Interleaved on the one Identity Protection budget: the users' first call leaves before the
    // service principals' last page (not all of them before, as when the plan waited for them), and
    // their first page before the users' last call (not all of them after the users' stage).
    expect(Math.min(...ids(userConfirms))).toBeLessThan(Math.max(...ids(spDetections)))
    expect(Math.min(...ids(spDetections))).toBeLessThan(Math.max(...ids(userConfirms)))
    expect(t.mock.tenant.actionsOf('sp:disable')).toHaveLength(100)
    expect(t.mock.tenant.actionsOf('confirmCompromised').length).toBeGreaterThan(100)
  })

  it('a service that refuses $top=500 on the risky service principals (none is documented): read at its default page size, and said', async () => {
    t = await InProcessTenant.start(
      {
        tenant: generateTenant({ riskyUsers: 10, seed: 5, highShare: 1, servicePrincipals: 45 }),
        riskyServicePrincipalsMaxTop: 100,
      },
      MIXED_POLICY,
      { id: WORKLOAD_APP_ID, secret: WORKLOAD_APP_SECRET },
    )
    const applied = await t.run('apply')
    expect(applied.exitCode).toBe(0)
    const lists = t.mock.log.filter((l) => l.path.endsWith('/identityProtection/riskyServicePrincipals'))
    // The refused first request, then the default page size (20): three pages for 45; the
    // read-back's list the same way, so every step is read back.
    expect(lists.slice(0, 4).map((l) => l.status)).toEqual([400, 200, 200, 200])
    expect(lists.filter((l) => l.status === 400)).toHaveLength(2)
    expect(t.mock.tenant.actionsOf('sp:disable')).toHaveLength(45)
    const sp = applied.records.filter((r) => r.subject === 'servicePrincipal')
    expect(sp).toHaveLength(90)
    expect(sp.filter((r) => r.status !== 'succeeded')).toEqual([])
    const event = applied.lines.find((l) => l.event === 'workloads')
    expect(event?.warnings).toEqual([expect.stringMatching(/refused \$top=500 .*default page size/)])
    expect(applied.err.text).toMatch(/riskyServicePrincipals: the service refused \$top=500/)
  })

  it('sends disables 20 to a $batch and reads every effect back by kind, not one request per step', async () => {
    t = await mixed(45)
    const applied = await t.run('apply')
    expect(applied.exitCode).toBe(0)
    const sp = applied.records.filter((r) => r.subject === 'servicePrincipal')
    expect(sp.filter((r) => r.action === 'disable').map((r) => r.status)).toEqual(Array(45).fill('succeeded'))
    expect(sp.filter((r) => r.action === 'confirmCompromised').map((r) => r.status)).toEqual(
      Array(45).fill('succeeded'),
    )
    const log = t.mock.log
    const disables = log.filter((l) => l.method === 'PATCH' && l.path.startsWith('/v1.0/servicePrincipals/'))
    expect(disables).toHaveLength(45)
    expect(disables.every((l) => l.batchId !== undefined)).toBe(true)
    expect(new Set(disables.map((l) => l.batchId)).size).toBe(3)
    // Risk states: one list read (one page at $top=500), no read per service principal.
    expect(log.filter((l) => /\/riskyServicePrincipals\/[^/]+$/.test(l.path) && l.method === 'GET')).toEqual(
      [],
    )
    const stateReads = log.filter(
      (l) =>
        l.path.endsWith('/riskyServicePrincipals') &&
        new URLSearchParams(l.query).get('$filter') === "riskState eq 'confirmedCompromised'",
    )
    expect(stateReads).toHaveLength(1)
    // accountEnabled: read back through $batch only.
    const reads = log.filter(
      (l) =>
        l.method === 'GET' &&
        l.path.startsWith('/v1.0/servicePrincipals/') &&
        l.query.includes('accountEnabled'),
    )
    expect(reads.length).toBeGreaterThanOrEqual(45)
    expect(reads.every((l) => l.batchId !== undefined)).toBe(true)
  })

  it('a stop while the service principals are still being read: the run stops early, none of theirs is sent, no error', async () => {
    t = await mixed(100)
    const stop = new AbortController()
    const mock = t.mock
    const handle = mock.handle.bind(mock)
    // SIGTERM as the service principals' detections start to be read (after the head, before their plan).
    mock.handle = (request: Request, arrivedAt?: number) => {
      if (new URL(request.url).pathname.endsWith('/servicePrincipalRiskDetections')) stop.abort()
      return handle(request, arrivedAt)
    }
    const r = await t.run('apply', { stopSignal: stop.signal })
    expect(r.exitCode).toBe(1)
    expect(r.lines.at(-1)).toMatchObject({ event: 'summary', outcome: 'stopped early' })
    expect(r.lines.filter((l) => l.event === 'error')).toEqual([])
    expect(r.err.text).toMatch(/stopped before the service principals were read in full/)
    expect(mock.tenant.actions.filter((a) => a.kind.startsWith('sp:'))).toEqual([])
  })

  it("a failure reading the service principals after the users' steps went out: exit 1, the users' records kept", async () => {
    t = await mixed(40)
    const mock = t.mock
    const handle = mock.handle.bind(mock)
    mock.handle = async (request: Request, arrivedAt?: number) =>
      new URL(request.url).pathname.endsWith('/servicePrincipalRiskDetections')
        ? Response.json(
            { error: { code: 'generalException', message: 'the service failed' } },
            { status: 500, headers: { 'request-id': 'r-500' } },
          )
        : handle(request, arrivedAt)
    const r = await t.run('apply')
    expect(r.exitCode).toBe(1)
    expect(r.lines.filter((l) => l.event === 'error')).toHaveLength(1)
    const summary = r.lines.at(-1)
    expect(summary?.event).toBe('summary')
    expect(summary?.succeeded).toBe(r.records.filter((x) => x.status === 'succeeded').length)
    expect(r.records.filter((x) => x.status === 'succeeded').length).toBeGreaterThan(150)
    expect(mock.tenant.actions.filter((a) => a.kind.startsWith('sp:'))).toEqual([])
  })

  it('a cap that a plan this large could reach decides it before anything is sent: exit 3, nothing done', async () => {
    t = await InProcessTenant.start(
      { tenant: generateTenant({ riskyUsers: 20, seed: 5, highShare: 1, servicePrincipals: 30 }) },
      MIXED_POLICY.replace(
        'limits: { maxActionsPerRun: 100000 }\n  rules',
        'limits: { maxActionsPerRun: 59 }\n  rules',
      ),
      { id: WORKLOAD_APP_ID, secret: WORKLOAD_APP_SECRET },
    )
    const applied = await t.run('apply')
    expect(applied.exitCode).toBe(3)
    expect(t.mock.tenant.actions).toEqual([])
  })
})

describe('whether a cap of the servicePrincipals section could refuse', () => {
  const policy = (section: string) =>
    parsePolicy(
      `version: 1\nlookback: PT24H\nrules:\n  - name: u\n    when: { riskLevel: [high] }\n    then: [revokeSessions]\nservicePrincipals:\n${section}`,
    )

  it('counts the most steps each action could have, a removal once per credential owner', () => {
    const p = policy(
      '  limits: { maxActionsPerRun: 40 }\n  rules:\n    - name: a\n      when: { riskLevel: [high] }\n      then: [confirmCompromised, disable, removeCredentials]\n',
    )
    // 4 steps each: 10 principals reach 40, 11 pass it.
    expect(capCouldRefuse(p, 10)).toBe(false)
    expect(capCouldRefuse(p, 11)).toBe(true)
  })

  it('under match: first takes the largest rule per action, under match: all adds them up', () => {
    const rules =
      '  rules:\n    - name: a\n      when: { riskLevel: [high] }\n      then: [disable]\n    - name: b\n      when: { riskLevel: [medium, high] }\n      then: [disable]\n'
    const first = policy(`  limits: { maxActionsPerRun: 100, maxPerAction: { disable: 5 } }\n${rules}`)
    const all = policy(
      `  match: all\n  limits: { maxActionsPerRun: 100, maxPerAction: { disable: 5 } }\n${rules}`,
    )
    expect(capCouldRefuse(first, 5)).toBe(false)
    expect(capCouldRefuse(first, 6)).toBe(true)
    expect(capCouldRefuse(all, 2)).toBe(false)
    expect(capCouldRefuse(all, 3)).toBe(true)
  })
})
