/**
 * The workload stage (engine/workloads/): its ledger lines and what they make of the next run, the
 * approvals gate over a workload step, undo's view of a run, and whole runs in-process against the
 * fake tenant's workload identities.
 */
import { WORKLOAD_APP_ID, WORKLOAD_APP_SECRET, WORKLOAD_IDS } from '@tourniquet/mock-graph'
import type { ServicePrincipalStep } from '@tourniquet/policy'
import { afterEach, describe, expect, it } from 'vitest'
import { gate } from '../src/approvals/gate.js'
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
