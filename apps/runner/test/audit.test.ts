import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { Audit, type StepRecord } from '../src/outputs/audit.js'

function record(i: number, status: StepRecord['status']): StepRecord {
  return {
    event: 'step',
    runId: 'run-1',
    userId: `u-${i}`,
    userPrincipalName: `user${i}@contoso.example`,
    rule: 'high',
    action: 'revokeSessions',
    route: 'entra:revokeSignInSessions',
    status,
    reason: status === 'failed' ? 'Authorization_RequestDenied' : null,
    graphRequestId: null,
    correlationId: null,
    evidenceKey: 'k',
    durationMs: 1,
  }
}

function tableOf(records: StepRecord[]): { stderr: string; stdoutLines: number } {
  const out = new PassThrough()
  const err = new PassThrough()
  let stderr = ''
  let stdout = ''
  out.on('data', (d) => {
    stdout += d
  })
  err.on('data', (d) => {
    stderr += d
  })
  const audit = new Audit(out, err, 'run-1')
  for (const r of records) audit.step(r)
  audit.table('Run run-1: applied.', records)
  return { stderr, stdoutLines: stdout.trim().split('\n').length }
}

describe('the human table', () => {
  it('lists every step of a small run', () => {
    const { stderr } = tableOf([record(1, 'succeeded'), record(2, 'failed'), record(3, 'skipped')])
    expect(stderr).toMatch(/user1@contoso\.example .* succeeded/)
    expect(stderr).toMatch(/user2@contoso\.example .* failed .*Authorization_RequestDenied/)
    expect(stderr).toMatch(/user3@contoso\.example .* skipped/)
    expect(stderr).not.toMatch(/not shown/)
  })

  it('in a large run lists the steps that need a look and counts the rest; stdout keeps every step', () => {
    const records = Array.from({ length: 5_000 }, (_, i) =>
      record(i, i === 17 ? 'failed' : i === 4_000 ? 'unverified' : i % 10 === 0 ? 'skipped' : 'succeeded'),
    )
    const { stderr, stdoutLines } = tableOf(records)
    expect(stdoutLines).toBe(5_000)
    expect(stderr).toMatch(/user17@contoso\.example .* failed/)
    expect(stderr).toMatch(/user4000@contoso\.example .* unverified/)
    expect(stderr).not.toMatch(/user1@contoso\.example/)
    expect(stderr).toMatch(
      /4998 of 5000 rows not shown \(4499 succeeded, 1 failed, 499 skipped, 1 unverified\)/,
    )
  })
})
