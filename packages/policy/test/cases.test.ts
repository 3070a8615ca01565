import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatPolicyTestReport, isPolicyError, parseCaseFile, runPolicyTests } from '../src/index.js'

const ROOT = resolve(import.meta.dirname, '..', '..', '..')

describe('the example policy', () => {
  it('passes its cases and every rule is covered', async () => {
    const report = await runPolicyTests('examples', ROOT)
    expect(report.failed).toBe(0)
    expect(report.passed).toBeGreaterThanOrEqual(10)
    expect(report.files[0]?.unmatchedRules).toEqual([])
    expect(formatPolicyTestReport(report)).toMatch(/coverage: 4\/4 rules matched by a case/)
  })
})

describe('the workload-identity policy', () => {
  it('passes its cases, users and service principals, and every rule of both is covered', async () => {
    const report = await runPolicyTests(
      join('test', 'fixtures', 'workload'),
      resolve(import.meta.dirname, '..'),
    )
    const text = formatPolicyTestReport(report)
    expect(report.failed, text).toBe(0)
    expect(report.passed).toBe(8)
    expect(report.files[0]?.unmatchedRules).toEqual([])
  })

  it('a wrong service principal expectation fails with a diff naming the principal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tq-sp-cases-'))
    try {
      await writeFile(
        join(dir, 'policy.yaml'),
        'version: 1\nlookback: PT24H\nrules:\n  - name: a\n    when: { riskLevel: [high] }\n    then: [revokeSessions]\nservicePrincipals:\n  rules:\n    - name: b\n      when: { riskLevel: [high] }\n      then: [disable]\n',
      )
      await writeFile(
        join(dir, 'x.cases.yaml'),
        'cases:\n  - name: wrong\n    given: { servicePrincipals: [{ name: app1, risk: high }] }\n    expect: { servicePrincipals: { steps: { app1: [confirmCompromised] } } }\n',
      )
      const text = formatPolicyTestReport(await runPolicyTests(dir))
      expect(text).toMatch(
        /service principal steps for app1: expected \[confirmCompromised\], got \[disable\]/,
      )
      expect(text).toMatch(/never matched: a/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('policy test runner', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-cases-'))
    await writeFile(
      join(dir, 'policy.yaml'),
      'version: 1\nlookback: PT24H\nrules:\n  - name: a\n    when: { riskLevel: [high] }\n    then: [revokeSessions]\n  - name: never\n    when: { riskLevel: [low] }\n    then: [disable]\n',
    )
    await writeFile(
      join(dir, 'x.cases.yaml'),
      'cases:\n  - name: right\n    given: { users: [{ upn: a@c.com, risk: high }] }\n    expect: { steps: { a@c.com: [revokeSessions] } }\n  - name: wrong\n    given: { users: [{ upn: a@c.com, risk: high }] }\n    expect: { steps: { a@c.com: [disable] } }\n',
    )
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('prints a pass/fail line per case, a diff on failure, and names rules no case matched', async () => {
    const report = await runPolicyTests(dir)
    expect(report).toMatchObject({ passed: 1, failed: 1 })
    const text = formatPolicyTestReport(report)
    expect(text).toMatch(/pass {2}right/)
    expect(text).toMatch(/FAIL {2}wrong\n\s+steps for a@c\.com: expected \[disable\], got \[revokeSessions\]/)
    expect(text).toMatch(/coverage: 1\/2 rules matched by a case; never matched: never/)
    expect(text.trim().split('\n').at(-1)).toBe('1 passed, 1 failed')
  })

  it('a bad case file names its line', () => {
    try {
      parseCaseFile(
        'cases:\n  - name: x\n    given: { users: [{ upn: a@c.com, risk: extreme }] }\n',
        'bad.cases.yaml',
      )
      expect.unreachable()
    } catch (e) {
      expect(isPolicyError(e)).toBe(true)
      expect((e as Error).message).toMatch(/^bad\.cases\.yaml:3:\d+ cases\[0\]\.given\.users\[0\]\.risk:/)
    }
  })

  it('a missing path is a PolicyError, not a crash', async () => {
    await expect(runPolicyTests(join(dir, 'nope'))).rejects.toMatchObject({ code: 'TQ_POLICY' })
  })
})
