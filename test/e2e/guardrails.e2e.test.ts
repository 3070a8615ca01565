import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EXPIRED_APP_ID, EXPIRED_APP_SECRET, READER_APP_ID, REMEDIATION_APP_ID } from '@tourniquet/mock-graph'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, Tenant } from '../support/e2e.js'

describe('exit codes and what each failure says', () => {
  let t: Tenant
  beforeAll(async () => {
    t = await Tenant.start({ scenario: 'demo' })
  })
  afterAll(() => t.stop())

  it('a guardrail refuses the whole run: exit 3, nothing done', async () => {
    const policy = join(t.dir, 'tight.yaml')
    await writeFile(
      policy,
      'version: 1\nlookback: PT24H\nlimits:\n  maxActionsPerRun: 2\nrules:\n  - name: all-high\n    when: { riskLevel: [high] }\n    then: [revokeSessions, disable]\n',
    )
    const r = await runCli(['run', '--apply'], t.env({ TOURNIQUET_POLICY: policy }))
    expect(r.code).toBe(3)
    expect(r.summary).toMatchObject({
      exitCode: 3,
      outcome: expect.stringMatching(/^refused by limits\.maxActionsPerRun/),
    })
    expect(r.lines.find((l) => l.event === 'refused')).toMatchObject({ limit: 'limits.maxActionsPerRun' })
    expect(r.steps.every((s) => s.status === 'skipped')).toBe(true)
    expect(t.mock.tenant.actions).toEqual([])
  })

  it('bad configuration: exit 2, the variable named, no request sent', async () => {
    const before = t.mock.log.length
    const r = await runCli(['run'], t.env({ AZURE_TENANT_ID: undefined, TOURNIQUET_MODE: 'yolo' }))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/AZURE_TENANT_ID: is not set/)
    expect(r.stderr).toMatch(/TOURNIQUET_MODE: 'yolo' is not a mode/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(t.mock.log.length).toBe(before)
  })

  it('a bad policy: exit 2, file, line and path named, no request sent', async () => {
    const policy = join(t.dir, 'bad.yaml')
    await writeFile(
      policy,
      'version: 1\nlookback: PT24H\nrules:\n  - name: oops\n    when: { riskLevel: [high] }\n    then: [disabel]\n',
    )
    const before = t.mock.log.length
    const r = await runCli(['run'], t.env({ TOURNIQUET_POLICY: policy }))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/bad\.yaml:6:\d+ rules\[0\]\.then\[0\]: unknown action 'disabel'/)
    expect(r.summary).toMatchObject({ exitCode: 2 })
    expect(t.mock.log.length).toBe(before)
  })

  it('an expired secret: exit 2 with the advice to rotate it', async () => {
    const r = await runCli(
      ['run'],
      t.env({ AZURE_CLIENT_ID: EXPIRED_APP_ID, AZURE_CLIENT_SECRET: EXPIRED_APP_SECRET }),
    )
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/AADSTS7000222/)
    expect(r.stderr).toMatch(/rotate it with `pulumi up`/)
    expect(r.stderr + r.stdout).not.toContain(EXPIRED_APP_SECRET)
    expect(r.lines.find((l) => l.event === 'error')).toMatchObject({
      kind: 'authentication',
      aadsts: '7000222',
    })
  })

  it('a missing permission fails those steps with the permission named; the run goes on', async () => {
    const fresh = await Tenant.start({ scenario: 'demo' })
    try {
      const app = fresh.mock.tenant.apps.get(REMEDIATION_APP_ID)
      if (app) app.roles = app.roles.filter((r) => r !== 'User.RevokeSessions.All')
      const r = await runCli(['run', '--apply'], fresh.env())
      expect(r.code).toBe(1)
      const revokes = r.steps.filter((s) => s.action === 'revokeSessions')
      expect(revokes.length).toBe(3)
      for (const s of revokes) {
        expect(s.status).toBe('failed')
        expect(String(s.reason)).toMatch(
          /needs the Microsoft Graph application permission User\.RevokeSessions\.All/,
        )
      }
      expect(
        r.steps.filter((s) => s.action === 'confirmCompromised').every((s) => s.status === 'succeeded'),
      ).toBe(true)
      expect(fresh.mock.tenant.actionsOf('disable').length).toBe(2)
      expect(r.summary).toMatchObject({ failed: 3, exitCode: 1 })
    } finally {
      await fresh.stop()
    }
  })

  it('a read-only app can still plan', async () => {
    const r = await runCli(
      ['run'],
      t.env({
        AZURE_CLIENT_ID: READER_APP_ID,
        AZURE_CLIENT_SECRET: 'mock-reader-secret-not-a-real-credential',
      }),
    )
    expect(r.code).toBe(0)
    expect(r.steps.some((s) => s.status === 'planned')).toBe(true)
  })
})
