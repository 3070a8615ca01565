/**
 * What humans and files read (issue #16 item 10): every tenant-chosen value in the Markdown report and
 * the terminal table is escaped and sanitized; the report and the file ledger are private (0600) and
 * never written through a symbolic link.
 */
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { registerSecret } from '@tourniquet/core'
import type { Plan, Step } from '@tourniquet/policy'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileLedger } from '../src/ledger/fileLedger.js'
import { ledgerEntry } from '../src/ledger/ledger.js'
import { Audit, type StepRecord } from '../src/outputs/audit.js'
import { writeReport } from '../src/outputs/report.js'

// A UPN an attacker who can rename an account might choose: it closes the cell, starts a new row,
// adds raw HTML and a link, and clears the reviewer's terminal.
const HOSTILE =
  'eve|x\n| forged | row |<img src=x onerror=alert(1)>[click](https://evil.example)\u001b[2J\u202e@contoso.example'
const SECRET = 'a-registered-secret-for-outputs'

function record(upn: string, reason: string | null): StepRecord {
  return {
    event: 'step',
    runId: 'run-1',
    userId: 'u-1',
    userPrincipalName: upn,
    rule: 'high',
    action: 'disable',
    route: 'entra:disable',
    status: 'failed',
    reason,
    graphRequestId: null,
    correlationId: null,
    evidenceKey: 'k',
    durationMs: 1,
  }
}

function plan(upn: string): Plan {
  return {
    evaluatedAt: '2026-12-01T00:00:00.000Z',
    lookbackStart: '2026-11-30T00:00:00.000Z',
    users: [
      {
        userId: 'u-1',
        userPrincipalName: upn,
        rules: ['high*'],
        justification: {
          riskLevel: 'high',
          riskState: 'atRisk',
          detections: [
            { id: 'd1', riskEventType: '<b>bold</b>', source: 'x\u0007', detectedDateTime: 'now' },
          ],
          distinctSignals: 1,
          distinctSources: 1,
        },
        evidenceKey: 'k',
        steps: [],
        skips: [],
      },
    ],
    steps: [],
    skips: [],
    wanted: {},
    refused: undefined,
    unmatched: 0,
  }
}

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tq-outputs-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the Markdown report', () => {
  it('escapes every interpolated field: no forged row, raw HTML, link or control character', async () => {
    registerSecret(SECRET)
    const path = join(dir, 'report.md')
    await writeReport(path, 'run-1', plan(HOSTILE), [record(HOSTILE, `denied; ${SECRET}`)])
    const text = await readFile(path, 'utf8')
    const rows = text.split('\n').filter((l) => l.startsWith('|'))
    // Header, separator, and the one record: the UPN's newline and pipes did not make another row.
    expect(rows).toHaveLength(3)
    const unescapedPipes = (rows[2] ?? '').replaceAll('\\|', '').match(/\|/g) ?? []
    // Eight columns (identity, kind, rule, action, route, status, reason, request-id): nine pipes.
    expect(unescapedPipes).toHaveLength(9)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that none are left.
    expect(text).not.toMatch(/<img|<b>|\]\(https|[\u0000-\u0009\u000b-\u001f\u202e]/)
    expect(text).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;')
    // The "Why" section is escaped too, and the sanitizer ran over every field.
    expect(text).toContain('&lt;b&gt;bold&lt;/b&gt;')
    expect(text).toContain('rule high\\*;')
    expect(text).not.toContain(SECRET)
  })

  it('is written with mode 0600 and never through a symbolic link', async () => {
    const path = join(dir, 'report.md')
    await writeReport(path, 'run-1', plan('alice@contoso.example'), [])
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const target = join(dir, 'elsewhere')
    await writeFile(target, 'keep me')
    const link = join(dir, 'link.md')
    await symlink(target, link)
    await expect(writeReport(link, 'run-1', plan('a@b'), [])).rejects.toThrow(/is a symbolic link/)
    expect(await readFile(target, 'utf8')).toBe('keep me')
  })
})

describe('the terminal table', () => {
  it('shows control characters as U+FFFD: no escape sequence, no extra line', () => {
    const err = new PassThrough()
    let stderr = ''
    err.on('data', (d) => {
      stderr += d
    })
    const audit = new Audit(new PassThrough(), err, 'run-1')
    const written = audit.step(record(HOSTILE, 'reason\r\nwith a line break'))
    audit.table('Run run-1', [written])
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that none are left.
    expect(stderr).not.toMatch(/[\u001b\u202e\r]/)
    // Title line (after a blank one), header, one row.
    expect(stderr.trim().split('\n')).toHaveLength(3)
  })
})

describe('the file ledger', () => {
  const step: Step = {
    userId: 'u-1',
    userPrincipalName: 'alice@contoso.example',
    rule: 'high',
    action: 'disable',
    route: { kind: 'entra', call: 'disable' },
    evidenceKey: 'k',
    evidence: [],
  } as Step

  it('is created with mode 0600', async () => {
    const path = join(dir, 'ledger.jsonl')
    await new FileLedger(path).append([ledgerEntry('run-1', step, 'intent')])
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('is never appended to through a symbolic link', async () => {
    const target = join(dir, 'elsewhere')
    await writeFile(target, '')
    const path = join(dir, 'ledger.jsonl')
    await symlink(target, path)
    await expect(new FileLedger(path).append([ledgerEntry('run-1', step, 'intent')])).rejects.toThrow(
      /is a symbolic link/,
    )
    expect(await readFile(target, 'utf8')).toBe('')
    expect((await lstat(path)).isSymbolicLink()).toBe(true)
  })
})
