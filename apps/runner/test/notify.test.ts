import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/env.js'
import {
  digestOf,
  LIST_MAX,
  onceUntilChanged,
  type RunDigest,
  slackPayload,
  TEAMS_MAX_BYTES,
  teamsPayload,
  worthTelling,
} from '../src/outputs/notify/message.js'
import { notify, sign, unsignedWarnings, verifySignature } from '../src/outputs/notify/send.js'
import { type NotifyTarget, parseTarget } from '../src/outputs/notify/targets.js'

describe('notification targets', () => {
  it.each([
    ['https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x', 'teams'],
    [
      'https://default1234.56.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/x',
      'teams',
    ],
    ['https://hooks.slack.com/services/T000/B000/XXXX', 'slack'],
    ['https://siem.example.com/hooks/tourniquet', 'json'],
    ['slack:https://chat.example.com/hook', 'slack'],
  ])('%s is a %s webhook', (url, kind) => {
    expect(parseTarget(url)).toMatchObject({ kind })
  })
  it('shows only the kind and the origin: the path and query carry the token', () => {
    const t = parseTarget('https://hooks.slack.com/services/T000/B000/XXXX')
    expect(t).toMatchObject({ label: 'slack https://hooks.slack.com' })
  })
  it('refuses plain http off loopback and credentials in the URL', () => {
    expect(parseTarget('http://hooks.example.com/x')).toMatch(/https/)
    expect(parseTarget('https://user:pw@hooks.example.com/x')).toMatch(/credentials/)
    expect(parseTarget('not a url')).toBe('is not a URL')
  })
})

describe('notification messages', () => {
  const counts = { planned: 0, succeeded: 0, failed: 0, skipped: 0, unverified: 0, pendingApproval: 0 }
  const run = {
    runId: 'run-1',
    tenantId: 't',
    mode: 'apply' as const,
    outcome: 'applied',
    exitCode: 0,
    counts,
    newPendingApprovals: 0,
  }
  it('a quiet run is not worth a message; one that acted or failed is', () => {
    expect(worthTelling(digestOf([], run))).toBe(false)
    expect(worthTelling(digestOf([], { ...run, counts: { ...counts, succeeded: 1 } }))).toBe(true)
    expect(worthTelling(digestOf([], { ...run, exitCode: 2 }))).toBe(true)
    expect(worthTelling(digestOf([], { ...run, newPendingApprovals: 1 }))).toBe(true)
  })
  it('long lists are cut and counted, and Slack text is escaped', () => {
    const many = Array.from({ length: LIST_MAX + 5 }, (_, i) => ({
      event: 'step' as const,
      runId: 'run-1',
      userId: `u${i}`,
      userPrincipalName: `<u${i}>@x.example`,
      rule: 'r',
      action: 'disable',
      route: 'entra:disable',
      status: 'succeeded' as const,
      reason: null,
      graphRequestId: null,
      correlationId: null,
      evidenceKey: null,
      durationMs: 0,
    }))
    const text = JSON.stringify(slackPayload(digestOf(many, run)))
    expect(text).toContain('and 5 more')
    expect(text).toContain('&lt;u0&gt;@x.example')
    expect(text).not.toContain('<u0>')
  })
})

describe('notification signatures', () => {
  const at = Date.parse('2026-12-04T12:00:00Z')
  it('signs "<unix seconds>.<body>" with HMAC-SHA256, in the header form t=<seconds>,v1=<hex>', () => {
    const t = at / 1000
    expect(sign('{}', 'k', at)).toBe(`t=${t},v1=${createHmac('sha256', 'k').update(`${t}.{}`).digest('hex')}`)
    expect(sign('{}', 'k', at)).not.toBe(sign('{}', 'k', at + 1000))
    expect(sign('{}', 'k', at)).not.toBe(sign('{ }', 'k', at))
  })
  it('the receiver check: right key and body within 5 minutes passes; a replay later, another key or body fails', () => {
    const header = sign('{"runId":"run-1"}', 'k', at)
    expect(verifySignature(header, '{"runId":"run-1"}', 'k', at + 299_000)).toBe(true)
    expect(verifySignature(header, '{"runId":"run-1"}', 'k', at + 301_000)).toBe(false)
    expect(verifySignature(header, '{"runId":"run-2"}', 'k', at)).toBe(false)
    expect(verifySignature(header, '{"runId":"run-1"}', 'other', at)).toBe(false)
    expect(verifySignature(undefined, '{}', 'k', at)).toBe(false)
    expect(verifySignature(`t=${at / 1000},v1=zz`, '{}', 'k', at)).toBe(false)
  })
  it('each generic target signs with its own key (TOURNIQUET_NOTIFY_SECRET_<n>), else the shared one; a key for Teams is refused', () => {
    const env = {
      AZURE_TENANT_ID: '72f988bf-0000-4000-a000-000000000001',
      AZURE_CLIENT_ID: 'a11c0000-0000-4000-a000-00000000c11e',
      AZURE_CLIENT_SECRET: 'the-secret-value-for-tests',
      TOURNIQUET_NOTIFY_URLS: 'json:https://a.example/h,json:https://b.example/h',
      TOURNIQUET_NOTIFY_SECRET: 'shared-key-1f2e',
      TOURNIQUET_NOTIFY_SECRET_2: 'own-key-9a8b',
    }
    const { notify } = loadConfig({}, env)
    expect(notify.targets.map((t) => t.key)).toEqual([undefined, 'own-key-9a8b'])
    expect(unsignedWarnings(notify)).toEqual([])
    expect(() =>
      loadConfig(
        {},
        { ...env, TOURNIQUET_NOTIFY_URLS: 'teams:https://a.example/h', TOURNIQUET_NOTIFY_SECRET: undefined },
      ),
    ).not.toThrow()
    expect(() =>
      loadConfig(
        {},
        { ...env, TOURNIQUET_NOTIFY_URLS: 'json:https://a.example/h,teams:https://b.example/h' },
      ),
    ).toThrow(/TOURNIQUET_NOTIFY_SECRET_2: entry 2 is a teams webhook/)
  })
  it('a generic target without a key is named in a warning; Teams and Slack (signed by their URL) are not', () => {
    const targets = ['teams:https://a.example/h', 'json:https://b.example/h'].map((u, i) =>
      parseTarget(u, i + 1),
    )
    const warnings = unsignedWarnings({ targets: targets as NotifyTarget[], secret: undefined, timeoutMs: 1 })
    expect(warnings).toEqual([
      expect.stringMatching(
        /^notification target 2 \(json https:\/\/b\.example\) is sent unsigned: set TOURNIQUET_NOTIFY_SECRET_2/,
      ),
    ])
  })
  it('delivers each target with its own signature: one receiver cannot verify (or forge) another', async () => {
    const got: Array<{ path: string; sig: string | undefined; body: string }> = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => {
        body += d.toString()
      })
      req.on('end', () => {
        got.push({ path: req.url ?? '', sig: req.headers['x-tourniquet-signature'] as string, body })
        res.end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const targets = [`json:${base}/a`, `json:${base}/b`].map(
        (u, i) => parseTarget(u, i + 1) as NotifyTarget,
      )
      const settings = {
        targets: [targets[0] as NotifyTarget, { ...(targets[1] as NotifyTarget), key: 'key-b' }],
        secret: 'key-a',
        timeoutMs: 5_000,
      }
      const digest = digestOf([], {
        runId: 'run-1',
        tenantId: 't',
        mode: 'apply',
        outcome: 'failed',
        exitCode: 1,
        counts: { planned: 0, succeeded: 0, failed: 1, skipped: 0, unverified: 0, pendingApproval: 0 },
        newPendingApprovals: 0,
      })
      await notify(digest, settings, Date.now() + 10_000)
      const a = got.find((g) => g.path === '/a')
      const b = got.find((g) => g.path === '/b')
      expect(verifySignature(a?.sig, a?.body ?? '', 'key-a')).toBe(true)
      expect(verifySignature(b?.sig, b?.body ?? '', 'key-b')).toBe(true)
      expect(verifySignature(b?.sig, b?.body ?? '', 'key-a')).toBe(false)
    } finally {
      server.close()
    }
  })
})

describe('notification sizes', () => {
  const counts = { planned: 0, succeeded: 0, failed: 0, skipped: 0, unverified: 0, pendingApproval: 0 }
  const run = {
    runId: 'run-1',
    tenantId: 't',
    mode: 'apply' as const,
    outcome: 'failed',
    exitCode: 1,
    counts,
    newPendingApprovals: 0,
  }
  const failed = (n: number, reason: string) =>
    Array.from({ length: n }, (_, i) => ({
      event: 'step' as const,
      runId: 'run-1',
      userId: `u${i}`,
      userPrincipalName: `user.with.a.long.name.${i}@contoso.example`,
      rule: 'high',
      action: 'disable',
      route: 'entra:disable',
      status: 'failed' as const,
      reason,
      graphRequestId: null,
      correlationId: null,
      evidenceKey: null,
      durationMs: 0,
    }))
  it('the Teams card stays under the Workflows limit (about 28 KB), and says how many more failed', () => {
    const records = failed(400, 'x'.repeat(2_000))
    const body = JSON.stringify(teamsPayload(digestOf(records, run)))
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(TEAMS_MAX_BYTES)
    expect(TEAMS_MAX_BYTES).toBeLessThan(28 * 1024)
    expect(body).toMatch(/and \d+ more/)
    const [, shown] = /and (\d+) more/.exec(body) ?? []
    expect(Number(shown)).toBe(400 - LIST_MAX)
  })
  it('Slack text is cut before it is escaped: no entity is ever cut in half', () => {
    const text = JSON.stringify(slackPayload(digestOf(failed(40, '&'.repeat(400)), run)))
    const sections = (JSON.parse(text) as { blocks: Array<{ text?: { text: string } }> }).blocks
    for (const s of sections) {
      expect(s.text?.text.length ?? 0).toBeLessThanOrEqual(3_000)
      expect(s.text?.text ?? '').not.toMatch(/&(?!amp;|lt;|gt;)/)
    }
  })
})

describe('notifications in watch mode', () => {
  const counts = { planned: 0, succeeded: 0, failed: 0, skipped: 0, unverified: 0, pendingApproval: 0 }
  const base = {
    tenantId: 't',
    mode: 'apply' as const,
    counts,
    newPendingApprovals: 0,
    severe: [],
    pendingApprovals: [],
  }
  const failing = (
    runId: string,
    who = 'a@x.example',
    reason = `HTTP 500 (request ${runId})`,
  ): RunDigest => ({
    ...base,
    runId,
    outcome: 'some steps failed',
    exitCode: 1,
    counts: { ...counts, failed: 1 },
    failed: [{ userPrincipalName: who, action: 'disable', reason }],
  })
  const quiet = (runId: string): RunDigest => ({
    ...base,
    runId,
    outcome: 'applied',
    exitCode: 0,
    failed: [],
  })
  it('a persistent failure is told once, then only when it changes or clears', () => {
    const tell = onceUntilChanged()
    expect(tell(failing('r1'))?.runId).toBe('r1')
    expect(tell(failing('r2'))).toBeUndefined()
    expect(tell(failing('r3'))).toBeUndefined()
    expect(tell(failing('r4', 'b@x.example'))?.runId).toBe('r4')
    expect(tell(quiet('r5'))).toMatchObject({ runId: 'r5', note: expect.stringMatching(/cleared/) })
    expect(tell(quiet('r6'))).toBeUndefined()
    expect(tell(failing('r7'))?.runId).toBe('r7')
    // Each watch has its own memory of what it told.
    expect(onceUntilChanged()(failing('r8'))?.runId).toBe('r8')
  })
  it('a run that acted is told even while the same failure persists', () => {
    const tell = onceUntilChanged()
    tell(failing('r1'))
    const acted = { ...failing('r2'), counts: { ...counts, failed: 1, succeeded: 2 } }
    expect(tell(acted)?.runId).toBe('r2')
  })
})
