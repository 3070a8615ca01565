import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { addUserSpec, generateTenant, REMEDIATION_APP_ID, seeded } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { collect, spawnCli, Tenant } from '../support/e2e.js'

// `tourniquet watch`: one process, a run every interval, within its share of Identity Protection.
describe('tourniquet watch', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('contains a risk that appears while it watches, stays within its Identity Protection share, and stops cleanly on SIGTERM', async () => {
    t = await Tenant.start({ scenario: 'empty' })
    const tenant = t
    const child = spawnCli(
      ['watch', '--apply'],
      t.env({ TOURNIQUET_WATCH_INTERVAL: 'PT1S', TOURNIQUET_WATCH_SHARE: '0.5' }),
    )
    const done = collect(child)
    const ipRequests = () => tenant.mock.log.filter((l) => l.path.startsWith('/v1.0/identityProtection/'))
    // Watching: at least one full run over the empty tenant.
    await expect.poll(() => ipRequests().length, { timeout: 15_000, interval: 100 }).toBeGreaterThan(2)
    const appeared = Date.now()
    const user = addUserSpec(
      tenant.mock.tenant,
      seeded(11),
      {
        name: 'new.victim',
        risk: { level: 'high' },
        detections: [{ type: 'leakedCredentials' }, { type: 'maliciousIPAddress', source: 'MDA' }],
      },
      Date.now(),
    )
    // Published now, as Identity Protection does: its last-updated times are the service's clock.
    const published = new Date().toISOString()
    const record = tenant.mock.tenant.riskyUsers.get(user.id)
    if (record) record.riskLastUpdatedDateTime = published
    for (const d of tenant.mock.tenant.detections) if (d.userId === user.id) d.lastUpdatedDateTime = published
    await expect
      .poll(
        () =>
          tenant.mock.tenant.actions.some((a) => a.userId === user.id && a.kind === 'revokeSignInSessions'),
        {
          timeout: 20_000,
          interval: 100,
        },
      )
      .toBe(true)
    const containedAfterMs = Date.now() - appeared
    // Watch long enough that an unshared pace (two reads a second) would exceed the share's bound.
    const spanOf = (ip: Array<{ time: number }>) => ((ip.at(-1)?.time ?? 0) - (ip[0]?.time ?? 0)) / 1000
    await expect.poll(() => spanOf(ipRequests()), { timeout: 20_000, interval: 100 }).toBeGreaterThan(8)
    // Each run reads the changed detections; the changed risky users only every fourth run or
    // when a changed detection names someone (decision 015).
    const changedReads = (list: string) =>
      ipRequests().filter((l) => {
        const query = decodeURIComponent(l.query.replaceAll('+', ' '))
        return (
          l.status === 200 &&
          l.method === 'GET' &&
          l.path.endsWith(`/${list}`) &&
          / gt /.test(query) &&
          !/riskState eq/.test(query)
        )
      }).length
    await expect
      .poll(() => changedReads('riskDetections'), { timeout: 20_000, interval: 100 })
      .toBeGreaterThan(7)
    child.kill('SIGTERM')
    const r = await done
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/tourniquet watch: stopped/)
    expect(r.lines.filter((l) => l.event === 'summary').length).toBeGreaterThan(1)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    // Nothing twice across iterations.
    expect(tenant.mock.duplicates()).toEqual([])
    // Within its share: on average half the job's 0.95 request/s, after a burst of WATCH_BURST (8).
    const ip = ipRequests()
    const span = spanOf(ip)
    // The first run is a full collection (no state yet): it reads at the job's pace, outside the share.
    const first = r.lines.find((l) => l.event === 'summary')
    expect(first).toMatchObject({ collection: 'full' })
    const full = Number(first?.identityProtectionRequests ?? 0)
    expect(ip.length).toBeLessThanOrEqual(Math.ceil(span * 0.5 * 0.95) + 8 + full)
    expect(containedAfterMs).toBeLessThan(20_000)
    expect(changedReads('riskyUsers')).toBeLessThan(changedReads('riskDetections') - 2)
  }, 60_000)

  it("reads a full collection (no state yet) at the job's pace, not its share: a large tenant's first run fits its deadline", async () => {
    // 3,000 stale risky users and their detections: about 18 Identity Protection pages. At a share
    // of 0.001 (after the burst of 8) they would take minutes; at the job's pace, under a second.
    const tenant = generateTenant({ riskyUsers: 3_000, seed: 5, highShare: 0 })
    t = await Tenant.start({ tenant, timeScale: 50 })
    const mock = t.mock
    const child = spawnCli(
      ['watch', '--apply'],
      t.env({
        TOURNIQUET_WATCH_INTERVAL: 'PT1S',
        TOURNIQUET_WATCH_SHARE: '0.001',
        TOURNIQUET_IDENTITY_PROTECTION_RPS: String(50 * 0.95),
      }),
    )
    const done = collect(child)
    const pages = () => mock.log.filter((l) => l.path.startsWith('/v1.0/identityProtection/')).length
    // At the share, 15 s allow the burst of 8 and one more; the job's pace reads all ~18 pages.
    await expect.poll(pages, { timeout: 15_000, interval: 100 }).toBeGreaterThan(12)
    child.kill('SIGTERM')
    const r = await done
    expect(r.stderr).toMatch(/a full collection \(no evidence state yet\) reads at the job's pace/)
  }, 60_000)

  it("reads a full collection it turns to midway (a forged state: too many facts to read one by one) at the job's pace too", async () => {
    const tenant = generateTenant({ riskyUsers: 3_000, seed: 6, highShare: 0 })
    t = await Tenant.start({ tenant, timeScale: 50 })
    const mock = t.mock
    // High risk is revoked; medium users are read (a rule names the level) and nothing matches them.
    const policy = join(t.dir, 'high.yaml')
    await writeFile(
      policy,
      'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 100000\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [revokeSessions]\n  - name: medium-spray\n    when: { riskLevel: [medium], detections: { anyOf: [passwordSpray] } }\n    then: [revokeSessions]\n',
    )
    const env = t.env({
      TOURNIQUET_POLICY: policy,
      TOURNIQUET_WATCH_INTERVAL: 'PT1S',
      TOURNIQUET_WATCH_SHARE: '0.001',
      TOURNIQUET_IDENTITY_PROTECTION_RPS: String(50 * 0.95),
    })
    // A job's run leaves the state; a writer of it then raises 30 medium users to high.
    await collect(spawnCli(['run', '--apply'], env))
    const at = `${env.TOURNIQUET_LEDGER}.evidence.json`
    // The state is columnar (version 4, its head on the first line): a user's level is an index
    // into the head's table of strings.
    const text = await readFile(at, 'utf8')
    const newline = text.indexOf('\n')
    const state = JSON.parse(text.slice(0, newline)) as { strings: string[]; users: { level: number[] } }
    if (!state.strings.includes('high')) state.strings.push('high')
    const high = state.strings.indexOf('high')
    for (let i = 0; i < Math.min(30, state.users.level.length); i++) state.users.level[i] = high
    await writeFile(at, `${JSON.stringify(state)}${text.slice(newline)}`)
    const before = mock.log.length
    const child = spawnCli(['watch', '--apply'], env)
    const done = collect(child)
    const pages = () =>
      mock.log.slice(before).filter((l) => l.path.startsWith('/v1.0/identityProtection/')).length
    // 30 users to read one by one: a full collection instead, about 18 pages; at the share, 15 s
    // allow the burst of 8 and one more.
    await expect.poll(pages, { timeout: 15_000, interval: 100 }).toBeGreaterThan(12)
    child.kill('SIGTERM')
    const r = await done
    expect(r.stderr).toMatch(/a full collection reads at the job's pace/)
  }, 60_000)

  it('a failure that persists is told once, then again when it clears, not every run', async () => {
    t = await Tenant.start({ scenario: 'empty' })
    const tenant = t
    const got: string[] = []
    const rx = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => {
        body += d.toString()
      })
      req.on('end', () => {
        got.push(body)
        res.end()
      })
    })
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r))
    try {
      // An admin at high risk, and an app without the directory role to disable an admin: the
      // disable fails on every run until the role is granted.
      const app = tenant.mock.tenant.apps.get(REMEDIATION_APP_ID)
      const roles = app?.directoryRoles ?? []
      if (app) app.directoryRoles = []
      addUserSpec(
        tenant.mock.tenant,
        seeded(12),
        {
          name: 'ops.admin',
          admin: true,
          risk: { level: 'high' },
          detections: [{ type: 'leakedCredentials' }],
        },
        Date.now(),
      )
      const policy = join(tenant.dir, 'disable.yaml')
      await writeFile(
        policy,
        'version: 1\nlookback: PT48H\nrules:\n  - name: high\n    when: { riskLevel: [high] }\n    then: [disable]\n',
      )
      const child = spawnCli(
        ['watch', '--apply'],
        tenant.env({
          TOURNIQUET_POLICY: policy,
          TOURNIQUET_WATCH_INTERVAL: 'PT1S',
          TOURNIQUET_WATCH_SHARE: '0.5',
          TOURNIQUET_NOTIFY_URLS: `json:http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`,
          TOURNIQUET_NOTIFY_SECRET: 'watch-key-3e9a',
        }),
      )
      const done = collect(child)
      const failedRuns = () => tenant.mock.log.filter((l) => l.method === 'PATCH').length
      await expect.poll(failedRuns, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(4)
      expect(got).toHaveLength(1)
      expect(JSON.parse(got[0] ?? '{}')).toMatchObject({ exitCode: 1 })
      if (app) app.directoryRoles = roles
      await expect.poll(() => got.length, { timeout: 20_000, interval: 100 }).toBe(2)
      expect(JSON.parse(got[1] ?? '{}')).toMatchObject({
        exitCode: 0,
        note: expect.stringMatching(/cleared/),
      })
      child.kill('SIGTERM')
      const r = await done
      expect(r.code).toBe(0)
      expect(got).toHaveLength(2)
    } finally {
      rx.close()
    }
  }, 90_000)

  it('a bad policy at the start ends it with exit 2', async () => {
    t = await Tenant.start({ scenario: 'empty' })
    const child = spawnCli(['watch'], t.env({ TOURNIQUET_POLICY: '/nonexistent/policy.yaml' }))
    const r = await collect(child)
    expect(r.code).toBe(2)
  })
})
