/**
 * A cache may save requests; it never decides an action (issue #21). Each test starts from a
 * finding of the 2026-12-04 security review, where the evidence state decided: a Defender for
 * Identity lookup never retried, a cached `accountEnabled`, a forged state, a watermark taken at the
 * end of a long collection, pruning by a wrong clock. Every step a run sends rests on facts read
 * from Graph in that run.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { addUserSpec, generateTenant, type MockGraph, seeded, type Tenant } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import type { EvidenceStore } from '../src/evidence/store.js'
import { evidenceLocation } from '../src/evidence/store.js'
import { readAsVersion2 } from './support/state.js'
import { InProcessTenant, MemoryLedger } from './support/tenant.js'

const HOUR = 3_600_000

type Line = Record<string, unknown>
const stepLines = (lines: Line[]) => lines.filter((l) => l.event === 'step')
const planLine = (lines: Line[]) => lines.find((l) => l.event === 'plan') ?? {}
const summaryOf = (lines: Line[]) => lines.find((l) => l.event === 'summary') ?? {}

/** Members at high risk are disabled (in AD through Defender for Identity when synced). */
const DISABLE_POLICY = (exclude: string[] = []) => `version: 1
lookback: PT48H
exclude:
  users: [${exclude.join(', ')}]
limits:
  maxActionsPerRun: 100000
rules:
  - name: high
    when: { riskLevel: [high], userType: [member] }
    then: [disable]
`

/** A member of the given kind, at high risk (or not at risk), enabled, not an admin. */
function pick(tenant: Tenant, kind: 'synced' | 'cloud', risky: boolean, skip: string[] = []): string {
  for (const u of tenant.users.values()) {
    const synced = u.onPremisesSyncEnabled === true
    if ((kind === 'synced') !== synced || u.userType !== 'Member' || u.isAdmin || !u.accountEnabled) continue
    const r = tenant.riskyUsers.get(u.id)
    const isRisky = r !== undefined && r.riskState === 'atRisk' && r.riskLevel === 'high'
    if (isRisky === risky && !skip.includes(u.id)) return u.id
  }
  throw new Error(`no ${kind} user`)
}

const identityOf = (tenant: Tenant, userId: string) => {
  const identity = [...tenant.identityAccounts.values()].find((i) => i.userId === userId)
  if (!identity) throw new Error(`no identity for ${userId}`)
  return identity
}

describe('every step rests on facts read in its run', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('looks a synced user up in Defender for Identity again on every run until the account is found, and says so each run', async () => {
    const tenant = generateTenant({ riskyUsers: 40, seed: 11, now: Date.now() - 3 * HOUR, highShare: 1 })
    const a = pick(tenant, 'synced', true)
    const identity = identityOf(tenant, a)
    // The sensor has not reported the account yet.
    tenant.identityAccounts.delete(identity.id)
    t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    const ledger = new MemoryLedger()
    const first = await t.run('apply', { ledger })
    expect(stepLines(first.lines).filter((s) => s.userId === a)).toEqual([
      expect.objectContaining({ status: 'skipped', reason: expect.stringMatching(/noDefenderAccount/) }),
    ])
    const quiet = await t.run('apply', { ledger })
    // Re-read, told again, and the state not rewritten: nothing it holds changed.
    expect(planLine(quiet.lines)).toMatchObject({ collection: 'incremental', evidence: 'unchanged' })
    expect(stepLines(quiet.lines).filter((s) => s.userId === a)).toEqual([
      expect.objectContaining({ status: 'skipped', reason: expect.stringMatching(/noDefenderAccount/) }),
    ])
    // The sensor reports the account a minute later.
    tenant.identityAccounts.set(identity.id, identity)
    const mock = t.mock as MockGraph
    const before = mock.tenant.actions.length
    const second = await t.run('apply', { ledger })
    expect(planLine(second.lines)).toMatchObject({ collection: 'incremental' })
    expect(mock.tenant.actions.slice(before).map((x) => `${x.kind} ${x.userId}`)).toEqual([
      `mdi:disable ${a}`,
    ])
  })

  it('disables an account that was disabled when first seen and re-enabled while still at risk', async () => {
    const tenant = generateTenant({ riskyUsers: 40, seed: 12, now: Date.now() - 3 * HOUR, highShare: 1 })
    const a = pick(tenant, 'cloud', true)
    const user = tenant.users.get(a)
    if (!user) throw new Error('no user')
    user.accountEnabled = false
    t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    const ledger = new MemoryLedger()
    const first = await t.run('apply', { ledger })
    expect(stepLines(first.lines).find((s) => s.userId === a)?.reason).toMatch(/alreadyDisabled/)
    // Re-enabled (an attacker, the helpdesk, a sync): Identity Protection's record does not change.
    user.accountEnabled = true
    const mock = t.mock as MockGraph
    const before = mock.tenant.actions.length
    const second = await t.run('apply', { ledger })
    expect(planLine(second.lines)).toMatchObject({ collection: 'incremental' })
    expect(mock.tenant.actions.slice(before).map((x) => `${x.kind} ${x.userId}`)).toEqual([`disable ${a}`])
    expect(user.accountEnabled).toBe(false)
  })

  it('saves a state stored in an older version in the current one at the next apply run, even when nothing changed', async () => {
    const tenant = generateTenant({ riskyUsers: 20, seed: 12, now: Date.now() - 3 * HOUR, highShare: 1 })
    t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    const ledger = new MemoryLedger()
    await t.run('apply', { ledger })
    const at = evidenceLocation(t.config.ledger)
    const before = await readAsVersion2(at)
    await writeFile(at, JSON.stringify(before))
    const migrating = await t.run('apply', { ledger })
    expect(planLine(migrating.lines)).toMatchObject({ collection: 'incremental', evidence: 'saved' })
    const text = await readFile(at, 'utf8')
    expect(JSON.parse(text.slice(0, text.indexOf('\n')))).toMatchObject({ version: 4 })
    // The same content (the watermarks move with Graph's clock).
    expect({ ...(await readAsVersion2(at)), watermarks: {} }).toEqual({ ...before, watermarks: {} })
    const quiet = await t.run('apply', { ledger })
    expect(planLine(quiet.lines)).toMatchObject({ collection: 'incremental', evidence: 'unchanged' })
  })

  it('sends a Defender for Identity disable to the identity found by SID now, never to one a forged state names (an excluded account)', async () => {
    const now = Date.now() - 3 * HOUR
    const tenant = generateTenant({ riskyUsers: 2, seed: 13, now, highShare: 1, detectionsPerUser: [1, 1] })
    const high = { risk: { level: 'high' }, detections: [{ type: 'leakedCredentials', hoursAgo: 2 }] }
    const a = addUserSpec(tenant, seeded(301), { name: 'ann', kind: 'synced', ...high }, now).id
    const b = addUserSpec(tenant, seeded(302), { name: 'bob', kind: 'synced', ...high }, now).id
    const victim = identityOf(tenant, b)
    t = await InProcessTenant.start({ tenant }, DISABLE_POLICY([b]))
    await t.run('apply', { ledger: new MemoryLedger() })
    const mock = t.mock as MockGraph
    expect(mock.tenant.actionsOf('mdi:disable').map((x) => x.userId)).toEqual([a])
    // A's AD account is enabled again, and a writer of the state points A's identity at B's.
    mock.tenant.applyIdentityAction(identityOf(tenant, a), 'enable', 'someone-else')
    const at = evidenceLocation(t.config.ledger)
    const state = await readAsVersion2(at)
    const userA = state.users.find((u: { userId: string }) => u.userId === a)
    userA.directory.accountEnabled = true
    userA.defender = {
      identityAccountId: victim.id,
      accounts: victim.accounts.map((x) => ({
        provider: x.provider,
        identifier: x.identifier,
        actions: x.actions,
      })),
    }
    await writeFile(at, JSON.stringify(state))
    const before = mock.tenant.actions.length
    // A new ledger (lost, or another environment's): A's disable is to do again.
    const run = await t.run('apply', { ledger: new MemoryLedger() })
    expect(planLine(run.lines)).toMatchObject({ collection: 'incremental' })
    expect(mock.tenant.actions.slice(before).map((x) => `${x.kind} ${x.userId}`)).toEqual([
      `mdi:disable ${a}`,
    ])
    expect(victim.isEnabled).toBe(true)
  })

  it('acts on nobody Graph does not report now: a forged user entry and an invented detection cost reads, not actions', async () => {
    const tenant = generateTenant({ riskyUsers: 30, seed: 21, now: Date.now() - 3 * HOUR, highShare: 1 })
    const quietUser = [...tenant.users.keys()].find((id) => !tenant.riskyUsers.has(id)) as string
    const stale = pick(tenant, 'cloud', true)
    t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    const ledger = new MemoryLedger()
    await t.run('apply', { ledger })
    const mock = t.mock as MockGraph
    const before = mock.tenant.actions.length
    const at = evidenceLocation(t.config.ledger)
    const state = await readAsVersion2(at)
    state.users.push({
      userId: quietUser,
      userPrincipalName: 'forged@contoso.example',
      risk: { level: 'high', state: 'atRisk', detail: 'none' },
      directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Member' },
    })
    state.detections.push({
      id: 'invented-detection',
      userId: stale,
      riskEventType: 'leakedCredentials',
      detectedDateTime: new Date(Date.now() - HOUR).toISOString(),
    })
    // The stale user was re-enabled meanwhile: only the invented detection would make its disable new.
    const staleUser = tenant.users.get(stale)
    if (staleUser) staleUser.accountEnabled = true
    await writeFile(at, JSON.stringify(state))
    const run = await t.run('apply', { ledger })
    expect(planLine(run.lines)).toMatchObject({ collection: 'incremental' })
    expect(mock.tenant.actions.slice(before)).toEqual([])
    expect(run.plan?.users.some((u) => u.userId === quietUser)).toBe(false)
  })

  it('collects in full when the state holds a watermark ahead of Graph', async () => {
    const tenant = generateTenant({ riskyUsers: 10, seed: 22, now: Date.now() - 3 * HOUR })
    t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    const ledger = new MemoryLedger()
    await t.run('apply', { ledger })
    const at = evidenceLocation(t.config.ledger)
    const state = await readAsVersion2(at)
    state.watermarks.detections = new Date(Date.now() + 30 * 24 * HOUR).toISOString()
    await writeFile(at, JSON.stringify(state))
    const run = await t.run('apply', { ledger })
    expect(planLine(run.lines)).toMatchObject({
      collection: 'full',
      collectionReason: expect.stringMatching(/detections watermark .* is later than Graph's clock/),
    })
  })

  it("reads a user raised while a collection longer than the overlap paged past it: the watermark is Graph's clock when each list's read began", async () => {
    const tenant = generateTenant({ riskyUsers: 20, seed: 16, now: Date.now() - 3 * HOUR, highShare: 0 })
    const a = pick(tenant, 'cloud', false)
    const b = pick(tenant, 'cloud', false, [a])
    t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    const mock = t.mock as MockGraph
    const handle = mock.handle.bind(mock)
    let fired = false
    // The overlap is 1 s: between the risky users' read and the detections', A is raised, then
    // 1.5 s later B has a new record (the collection outlasts the overlap).
    mock.handle = async (request: Request, arrivedAt?: number) => {
      if (!fired && new URL(request.url).pathname.endsWith('/identityProtection/riskDetections')) {
        fired = true
        tenant.detect(a, {
          type: 'leakedCredentials',
          level: 'high',
          timing: 'realtime',
          detectedAt: Date.now() - 60_000,
        })
        await new Promise((r) => setTimeout(r, 1_500))
        tenant.detect(b, {
          type: 'unfamiliarFeatures',
          level: 'low',
          timing: 'realtime',
          detectedAt: Date.now() - 60_000,
        })
      }
      return handle(request, arrivedAt)
    }
    const config = {
      ...t.config,
      mode: 'apply' as const,
      collection: { ...t.config.collection, overlapMs: 1_000 },
    }
    const ledger = new MemoryLedger()
    const first = await t.run('apply', { ledger, config })
    expect(planLine(first.lines)).toMatchObject({ collection: 'full' })
    expect(first.plan?.steps.some((s) => s.userId === a)).toBe(false)
    const second = await t.run('apply', { ledger, config })
    expect(planLine(second.lines)).toMatchObject({ collection: 'incremental' })
    expect(mock.tenant.actionsOf('disable').map((x) => x.userId)).toEqual([a])
  })

  it("prunes by Graph's clock: a run whose clock is 12 h fast saves nothing, and says so on the summary line", async () => {
    const tenant = generateTenant({ riskyUsers: 30, seed: 17, now: Date.now(), highShare: 0 })
    const policy = `version: 1
lookback: PT24H
limits:
  maxActionsPerRun: 100000
rules:
  - name: leaked
    when: { riskLevel: [medium, low], detections: { anyOf: [leakedCredentials] } }
    then: [revokeSessions]
`
    const a = pick(tenant, 'cloud', false)
    const leaked = tenant.detect(a, {
      type: 'leakedCredentials',
      level: 'medium',
      timing: 'offline',
      detectedAt: Date.now() - 14 * HOUR,
    })
    leaked.lastUpdatedDateTime = new Date(Date.now() - HOUR).toISOString()
    const record = tenant.riskyUsers.get(a)
    if (record) record.riskLastUpdatedDateTime = leaked.lastUpdatedDateTime
    t = await InProcessTenant.start({ tenant }, policy)
    const first = await t.run('plan', { ledger: new MemoryLedger() })
    expect(first.plan?.steps.some((s) => s.userId === a)).toBe(true)
    const seed = await t.run('apply', { ledger: new MemoryLedger(), config: { ...t.config, mode: 'apply' } })
    expect(planLine(seed.lines)).toMatchObject({ evidence: 'saved' })
    const fast = await t.run('apply', {
      ledger: new MemoryLedger(),
      now: () => new Date(Date.now() + 12 * HOUR),
    })
    expect(planLine(fast.lines)).toMatchObject({ evidence: 'not saved (clock)' })
    expect(summaryOf(fast.lines).evidenceWarning).toMatch(/from Graph's .* not saved/)
    const back = await t.run('plan', { ledger: new MemoryLedger() })
    expect(planLine(back.lines)).toMatchObject({ collection: 'incremental' })
    expect(back.plan?.steps.some((s) => s.userId === a)).toBe(true)
  })

  it('writes no shared state from a plan run', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 5, seed: 23 }) }, DISABLE_POLICY())
    const run = await t.run('plan', { ledger: new MemoryLedger() })
    expect(planLine(run.lines)).toMatchObject({ evidence: 'not saved (plan)' })
    await expect(readFile(evidenceLocation(t.config.ledger), 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it("asks for changes with gt on Graph's last-updated times, and takes an empty first page followed by a 400 for the last-page quirk, not a refusal", async () => {
    const tenant = generateTenant({ riskyUsers: 10, seed: 24, now: Date.now() - 3 * HOUR })
    t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    const mock = t.mock as MockGraph
    const ledger = new MemoryLedger()
    await t.run('apply', { ledger })
    // The service answers the changed users with an empty page and a nextLink, then refuses the
    // nextLink (microsoft-graph-docs issue 16332): an answer to the filter, not a refusal of it.
    const handle = mock.handle.bind(mock)
    mock.handle = async (request: Request, arrivedAt?: number) => {
      const url = new URL(request.url)
      if (
        url.pathname.endsWith('/identityProtection/riskyUsers') &&
        url.search.includes('riskLastUpdatedDateTime')
      ) {
        await handle(request, arrivedAt)
        const body = url.searchParams.has('$skiptoken')
          ? { error: { code: 'BadRequest', message: 'The $skiptoken is not valid for this request.' } }
          : { value: [], '@odata.nextLink': `${url.href}&$skiptoken=last` }
        return new Response(JSON.stringify(body), {
          status: url.searchParams.has('$skiptoken') ? 400 : 200,
          headers: { 'content-type': 'application/json', date: new Date().toUTCString() },
        })
      }
      return handle(request, arrivedAt)
    }
    const before = mock.log.length
    const run = await t.run('apply', { ledger })
    const filters = mock.log
      .slice(before)
      .filter((r) => r.path.endsWith('/riskyUsers') && r.status === 200)
      .map((r) => new URLSearchParams(r.query).get('$filter'))
    expect(filters[0]).toMatch(/^riskLastUpdatedDateTime gt \d{4}-/)
    expect(planLine(run.lines)).toMatchObject({ collection: 'incremental' })
    expect(run.lines).toContainEqual(
      expect.objectContaining({
        event: 'warning',
        message: expect.stringMatching(/known quirk of the last page/),
      }),
    )
  })

  it('says on the summary line when the evidence state cannot be saved (a retention policy refuses the overwrite)', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 5, seed: 25 }) }, DISABLE_POLICY())
    const refusing: EvidenceStore = {
      location: 'memory:evidence',
      io: { bytesRead: 0, bytesWritten: 0, ms: 0 },
      load: async () => ({ state: undefined, version: undefined }),
      save: async () => {
        throw new Error(
          '409 BlobImmutableDueToPolicy: this operation is not permitted as the blob is immutable due to a policy',
        )
      },
    }
    const run = await t.run('apply', { ledger: new MemoryLedger(), evidence: refusing })
    expect(planLine(run.lines)).toMatchObject({ evidence: 'failed' })
    expect(summaryOf(run.lines)).toMatchObject({
      exitCode: 0,
      evidenceWarning: expect.stringMatching(/could not be saved .*BlobImmutableDueToPolicy/),
    })
  })
})

describe('a stop while reading', () => {
  it('SIGTERM stops a collection between pages: nothing more is read and nothing is sent', async () => {
    const tenant = generateTenant({
      riskyUsers: 400,
      seed: 26,
      now: Date.now() - 3 * HOUR,
      highShare: 1,
      detectionsPerUser: [2, 2],
    })
    const t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    try {
      const mock = t.mock as MockGraph
      const stop = new AbortController()
      const handle = mock.handle.bind(mock)
      mock.handle = async (request: Request, arrivedAt?: number) => {
        if (new URL(request.url).pathname.endsWith('/identityProtection/riskDetections')) stop.abort()
        return handle(request, arrivedAt)
      }
      const run = await t.run('apply', { ledger: new MemoryLedger(), stopSignal: stop.signal })
      expect(summaryOf(run.lines)).toMatchObject({ outcome: 'stopped early: nothing done', exitCode: 1 })
      // 800 detections are two pages: the second is never asked for.
      expect(mock.log.filter((r) => r.path.endsWith('/riskDetections'))).toHaveLength(1)
      expect(mock.tenant.actions).toEqual([])
    } finally {
      await t.stop()
    }
  })

  it('a full collection cut short saves what it read, and the next run resumes it: no page is asked twice, and the plan is a full collection’s', async () => {
    const tenant = generateTenant({
      riskyUsers: 100,
      seed: 27,
      now: Date.now() - 3 * HOUR,
      // A few users to act on: their facts from the first part are read again one by one (under 20 reads).
      highShare: 0.01,
      detectionsPerUser: [6, 6],
    })
    const t = await InProcessTenant.start({ tenant }, DISABLE_POLICY())
    try {
      const mock = t.mock as MockGraph
      // What a full collection from nothing plans (a plan run saves nothing).
      const expected = await t.run('plan', { ledger: new MemoryLedger() })
      const stop = new AbortController()
      const handle = mock.handle.bind(mock)
      let detectionPages = 0
      // The stop comes while the second page of detections is asked for (that request is abandoned).
      mock.handle = async (request: Request, arrivedAt?: number) => {
        if (
          new URL(request.url).pathname.endsWith('/identityProtection/riskDetections') &&
          ++detectionPages === 2
        )
          stop.abort()
        return handle(request, arrivedAt)
      }
      const ledger = new MemoryLedger()
      const cut = await t.run('apply', { ledger, stopSignal: stop.signal })
      expect(summaryOf(cut.lines)).toMatchObject({ outcome: 'stopped early: nothing done' })
      const saved = await readAsVersion2(evidenceLocation(t.config.ledger))
      expect(saved.fullAt).toBeUndefined()
      expect(saved.users).toHaveLength(Number(planLine(expected.lines).riskyUsers))
      expect(saved.progress.users).toMatchObject({ done: true })
      expect(saved.progress.detections).toMatchObject({
        done: false,
        next: expect.stringContaining('riskDetections'),
      })
      mock.handle = handle
      const before = mock.log.length
      const resumed = await t.run('apply', { ledger })
      const asked = mock.log.slice(before)
      expect(planLine(resumed.lines)).toMatchObject({
        collection: 'full',
        collectionReason: expect.stringMatching(/^resuming/),
      })
      // The users were read to the end before the stop; of the detections, only the page after it.
      expect(asked.filter((r) => r.path.endsWith('/identityProtection/riskyUsers'))).toHaveLength(0)
      expect(asked.filter((r) => r.path.endsWith('/identityProtection/riskDetections'))).toHaveLength(1)
      const keys = (r: {
        plan: { steps: Array<{ userId: string; action: string; evidenceKey: string }> } | undefined
      }) => (r.plan?.steps ?? []).map((x) => `${x.userId}|${x.action}|${x.evidenceKey}`).sort()
      expect(keys(resumed)).toEqual(keys(expected))
      expect(summaryOf(resumed.lines)).toMatchObject({ exitCode: 0 })
      expect(await readAsVersion2(evidenceLocation(t.config.ledger))).toMatchObject({
        fullAt: expect.any(String),
      })
    } finally {
      await t.stop()
    }
  })
})
