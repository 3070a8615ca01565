import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { digestOf, LIST_MAX, slackPayload, worthTelling } from '../src/notify/message.js'
import { sign } from '../src/notify/send.js'
import { parseTarget } from '../src/notify/targets.js'

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
  it('signs the body with HMAC-SHA256', () => {
    expect(sign('{}', 'k')).toBe(`sha256=${createHmac('sha256', 'k').update('{}').digest('hex')}`)
    expect(sign('{}', 'k')).not.toBe(sign('{ }', 'k'))
  })
})
