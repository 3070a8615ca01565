/**
 * The evidence state is input anyone with write access can edit: whatever is done to it, a run
 * sends no step that a full collection over the same tenant, with the same ledger, would not send
 * (issue #21). A forged state may cost requests (or one full collection) and may hide a user until
 * the next reconciliation, as a forged ledger could before; it never causes an action.
 */
import { writeFile } from 'node:fs/promises'
import { generateTenant, type MockGraph, type Tenant } from '@tourniquet/mock-graph'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { evidenceLocation } from '../src/evidence/store.js'
import { readAsVersion2 } from './support/state.js'
import { InProcessTenant, MemoryLedger, WIDE_POLICY } from './support/tenant.js'

const HOUR = 3_600_000

/** What the mock records, as the policy names the action. */
const ACTION_OF: Record<string, string> = {
  confirmCompromised: 'confirmCompromised',
  revokeSignInSessions: 'revokeSessions',
  disable: 'disable',
  enable: 'enable',
  resetPassword: 'forcePasswordReset',
  'mdi:disable': 'disable',
  'mdi:enable': 'enable',
  'mdi:forcePasswordReset': 'forcePasswordReset',
}

type Json = Record<string, unknown>
interface StoredUser extends Json {
  userId: string
  risk: { level: string; state: string; detail?: string }
  directory?: { accountEnabled: boolean; onPremisesSyncEnabled: boolean; userType: string }
  defender?: unknown
}
interface State {
  fullAt?: string | undefined
  progress?: unknown
  watermarks: { users?: string; detections?: string }
  users: StoredUser[]
  detections: Array<Json & { id: string; userId: string; riskEventType: string }>
}

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('addUser'),
    who: fc.nat(),
    level: fc.constantFrom('high', 'medium'),
    synced: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('inventDetection'),
    who: fc.nat(),
    type: fc.constantFrom('leakedCredentials', 'passwordSpray'),
  }),
  fc.record({ kind: fc.constant('swapDefender'), who: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constant('flipDirectory'),
    who: fc.nat(),
    field: fc.constantFrom('accountEnabled', 'onPremisesSyncEnabled', 'userType'),
  }),
  fc.record({
    kind: fc.constant('riskLevel'),
    who: fc.nat(),
    level: fc.constantFrom('high', 'medium', 'low'),
  }),
  fc.record({
    kind: fc.constant('watermark'),
    list: fc.constantFrom('users', 'detections'),
    hours: fc.integer({ min: -72, max: 72 }),
  }),
  fc.record({ kind: fc.constant('moveDetection'), which: fc.nat(), who: fc.nat() }),
  fc.record({ kind: fc.constant('dropUser'), who: fc.nat() }),
  // A full collection said to be cut short, with a link to resume from that is not one Graph gave.
  fc.record({
    kind: fc.constant('cutShort'),
    usersDone: fc.boolean(),
    link: fc.constantFrom(
      'https://attacker.example/v1.0/identityProtection/riskyUsers?$skiptoken=x',
      'https://localhost/v1.0/users?$filter=accountEnabled%20eq%20true',
      'https://localhost/v1.0/identityProtection/riskDetections?$skiptoken=forged',
    ),
  }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

/** Applies one edit a writer of the state could make. */
function mutate(state: State, tenant: Tenant, m: Mutation): void {
  const everyone = [...tenant.users.keys()]
  const identities = [...tenant.identityAccounts.values()]
  const userAt = (n: number) => state.users[n % Math.max(1, state.users.length)]
  switch (m.kind) {
    case 'addUser': {
      const userId = everyone[m.who % everyone.length] as string
      state.users = state.users.filter((u) => u.userId !== userId)
      const identity = identities[m.who % identities.length]
      state.users.push({
        userId,
        userPrincipalName: `forged-${m.who}@contoso.example`,
        risk: { level: m.level, state: 'atRisk', detail: 'none' },
        directory: { accountEnabled: true, onPremisesSyncEnabled: m.synced, userType: 'Member' },
        ...(m.synced && identity
          ? { defender: { identityAccountId: identity.id, accounts: accountsOf(identity) } }
          : {}),
      })
      state.detections.push({
        id: `forged-for-${m.who}`,
        userId,
        riskEventType: 'leakedCredentials',
        detectedDateTime: new Date(Date.now() - HOUR).toISOString(),
      })
      return
    }
    case 'inventDetection': {
      const user = userAt(m.who)
      if (user)
        state.detections.push({
          id: `invented-${m.who}-${state.detections.length}`,
          userId: user.userId,
          riskEventType: m.type,
          detectedDateTime: new Date(Date.now() - HOUR).toISOString(),
        })
      return
    }
    case 'swapDefender': {
      const user = userAt(m.who)
      const identity = identities[m.other % Math.max(1, identities.length)]
      if (user && identity) user.defender = { identityAccountId: identity.id, accounts: accountsOf(identity) }
      return
    }
    case 'flipDirectory': {
      const directory = userAt(m.who)?.directory
      if (!directory) return
      if (m.field === 'userType') directory.userType = directory.userType === 'Guest' ? 'Member' : 'Guest'
      else directory[m.field] = !directory[m.field]
      return
    }
    case 'riskLevel': {
      const user = userAt(m.who)
      if (user) user.risk = { ...user.risk, level: m.level, state: 'atRisk' }
      return
    }
    case 'watermark':
      state.watermarks[m.list] = new Date(Date.now() + m.hours * HOUR).toISOString()
      return
    case 'moveDetection': {
      const detection = state.detections[m.which % Math.max(1, state.detections.length)]
      const user = userAt(m.who)
      if (detection && user) detection.userId = user.userId
      return
    }
    case 'dropUser': {
      const user = userAt(m.who)
      if (user) state.users = state.users.filter((u) => u !== user)
      return
    }
    case 'cutShort':
      state.fullAt = undefined
      state.progress = {
        users: m.usersDone ? { done: true } : { done: false, next: m.link },
        detections: { done: false, next: m.link },
      }
      return
  }
}

function accountsOf(identity: {
  accounts: Array<{ provider: string; identifier: string; actions: string[] }>
}) {
  return identity.accounts.map((a) => ({
    provider: a.provider,
    identifier: a.identifier,
    actions: a.actions,
  }))
}

describe('a forged evidence state never causes an action', () => {
  it('sends no step a full collection over the same tenant and ledger would not send, whatever is written into the state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        async (seed, mutations, excludedPick) => {
          const tenant = generateTenant({ riskyUsers: 12, seed, now: Date.now() - 3 * HOUR, highShare: 0.6 })
          const risky = [...tenant.riskyUsers.keys()]
          const excluded = risky[excludedPick % risky.length] as string
          const policy = WIDE_POLICY.replace('limits:', `exclude:\n  users: [${excluded}]\nlimits:`)
          const t = await InProcessTenant.start({ tenant }, policy)
          try {
            const mock = t.mock as MockGraph
            const ledger = new MemoryLedger()
            await t.run('apply', { ledger })
            // The tenant moves on: an account re-enabled, a new detection.
            const disabled = [...tenant.users.values()].find(
              (u) => !u.accountEnabled && u.userType === 'Member',
            )
            if (disabled) disabled.accountEnabled = true
            const raised = risky[seed % risky.length] as string
            tenant.detect(raised, {
              type: 'passwordSpray',
              level: 'high',
              timing: 'realtime',
              detectedAt: Date.now() - 60_000,
            })
            const at = evidenceLocation(t.config.ledger)
            // Forged in version 2's shape (one object per record), which runs still read.
            const state = (await readAsVersion2(at)) as unknown as State
            for (const m of mutations) mutate(state, tenant, m)
            await writeFile(at, JSON.stringify(state))
            // What a full collection would send now, with the same ledger as the apply run's.
            const full = await t.run('plan', {
              ledger: new MemoryLedger({ entries: await ledger.load() }),
              config: {
                ...t.config,
                mode: 'plan',
                ledger: `${t.dir}/full.jsonl`,
                collection: { ...t.config.collection, mode: 'full' },
              },
            })
            const allowed = new Set(
              full.lines
                .filter((l) => l.event === 'step' && l.status === 'planned')
                .map((l) => `${l.userId}|${l.action}`),
            )
            const before = mock.tenant.actions.length
            await t.run('apply', { ledger })
            const sent = mock.tenant.actions
              .slice(before)
              .map((a) => `${a.userId}|${ACTION_OF[a.kind] ?? a.kind}`)
            for (const s of sent) expect(allowed).toContain(s)
            expect(sent.some((s) => s.startsWith(`${excluded}|`))).toBe(false)
          } finally {
            await t.stop()
          }
        },
      ),
      { numRuns: 25, seed: 20261204 },
    )
  }, 240_000)
})
