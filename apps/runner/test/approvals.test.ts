import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Step } from '@tourniquet/policy'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { gate } from '../src/approvals/gate.js'
import {
  type ApprovalDecision,
  type ApprovalRequest,
  decisionSchema,
  parseTrail,
  requestSchema,
} from '../src/approvals/records.js'
import { besideLedger, decisionsLocation, openTrails } from '../src/approvals/store.js'
import { decide, listApprovals } from '../src/commands/approvals.js'
import { loadTrailConfig, type TrailConfig } from '../src/env.js'
import { Sink } from './support/tenant.js'

const NOW = new Date('2026-12-01T12:00:00Z')
const step = (evidence: string[], evidenceKey = evidence.join('+')): Step => ({
  userId: 'u1',
  userPrincipalName: 'u1@contoso.example',
  rule: 'high',
  action: 'disable',
  route: { kind: 'entra', call: 'disable' },
  evidenceKey,
  evidence,
  approval: { timeoutMs: 3_600_000, onTimeout: 'skip' },
})
const ctx = { runId: 'run-2', now: NOW, evidenceOf: () => ['leakedCredentials'] }
const asked = (detections: string[], at = '2026-12-01T11:30:00.000Z'): ApprovalRequest => ({
  type: 'request',
  at,
  runId: 'run-1',
  userId: 'u1',
  userPrincipalName: 'u1@contoso.example',
  action: 'disable',
  evidenceKey: detections.join('+'),
  detections,
  rule: 'high',
  route: 'entra:disable',
  evidence: [],
  expiresAt: new Date(Date.parse(at) + 3_600_000).toISOString(),
  onTimeout: 'skip',
})
const decided = (
  detections: string[],
  decision: 'approved' | 'rejected',
  at = '2026-12-01T11:40:00.000Z',
  by = 'alice',
): ApprovalDecision => ({
  type: 'decision',
  at,
  runId: 'run-1',
  userId: 'u1',
  userPrincipalName: 'u1@contoso.example',
  action: 'disable',
  evidenceKey: detections.join('+'),
  detections,
  decision,
  by,
})

describe('approval gate', () => {
  it('a detection leaving the window is not new evidence: the same request still waits, and an approval still holds', () => {
    const aged = step(['d2'])
    expect(gate([aged], { requests: [asked(['d1', 'd2'])], decisions: [] }, ctx).waiting).toMatchObject([
      { fresh: false },
    ])
    expect(
      gate([aged], { requests: [asked(['d1', 'd2'])], decisions: [decided(['d1', 'd2'], 'approved')] }, ctx)
        .send,
    ).toEqual([aged])
  })
  it('a new detection needs a new request, whatever was decided before', () => {
    const newer = step(['d1', 'd3'])
    const g = gate([newer], { requests: [asked(['d1'])], decisions: [decided(['d1'], 'approved')] }, ctx)
    expect(g.send).toEqual([])
    expect(g.waiting).toMatchObject([{ fresh: true, request: { detections: ['d1', 'd3'], runId: 'run-2' } }])
  })
  it("a new request is dated now and expires after the policy's timeout, with the step's evidence", () => {
    const g = gate([step(['d1'])], { requests: [], decisions: [] }, ctx)
    expect(g.waiting).toEqual([
      expect.objectContaining({
        fresh: true,
        until: new Date(NOW.getTime() + 3_600_000).toISOString(),
        request: expect.objectContaining({
          type: 'request',
          at: NOW.toISOString(),
          expiresAt: new Date(NOW.getTime() + 3_600_000).toISOString(),
          detections: ['d1'],
          evidence: ['leakedCredentials'],
          onTimeout: 'skip',
        }),
      }),
    ])
    expect(g.granted).toEqual([])
    expect(g.warnings).toEqual([])
  })

  it('an unanswered request past its timeout is sent with onTimeout: apply, and says why', () => {
    const applying = { ...step(['d1']), approval: { timeoutMs: 3_600_000, onTimeout: 'apply' as const } }
    const g = gate([applying], { requests: [asked(['d1'], '2026-12-01T09:00:00.000Z')], decisions: [] }, ctx)
    expect(g.send).toEqual([applying])
    expect(g.granted).toEqual([
      {
        step: applying,
        why: 'approval: no answer within PT1H of the request by run-1; sent, as approvals.onTimeout says',
      },
    ])
    expect(g.skipped).toEqual([])
  })

  it('a rejection dated in the future still rejects, and a warning names it; the reason is quoted', () => {
    const no = { ...decided(['d1'], 'rejected', '2026-12-02T12:00:00.000Z'), reason: 'wrong person' }
    const g = gate([step(['d1'])], { requests: [asked(['d1'])], decisions: [no] }, ctx)
    expect(g.skipped).toEqual([
      {
        step: step(['d1']),
        reason: 'approval: rejected by alice at 2026-12-02T12:00:00.000Z (wrong person)',
      },
    ])
    expect(g.warnings).toEqual([
      expect.stringMatching(/a rejection of disable .* is dated .*; it still rejects$/),
    ])
  })

  it('an approval granted says who and when, with no reason when none was given; only gated steps read the trail', () => {
    const g = gate(
      [step(['d1'])],
      { requests: [asked(['d1'])], decisions: [decided(['d1'], 'approved')] },
      ctx,
    )
    expect(g.granted).toEqual([{ step: step(['d1']), why: 'approved by alice at 2026-12-01T11:40:00.000Z' }])
    // A trail with a future approval is not even read when no step needs approval: no warning.
    const free = { ...step(['d1']), approval: undefined }
    const future = decided(['d1'], 'approved', '2026-12-09T00:00:00.000Z')
    expect(gate([free], { requests: [], decisions: [future] }, ctx).warnings).toEqual([])
  })

  it('a capped trail of rejections only is trusted without a warning', () => {
    const g = gate(
      [step(['d1'])],
      { requests: [asked(['d1'])], decisions: [decided(['d1'], 'rejected')], decisionsCapped: true },
      ctx,
    )
    expect(g.skipped).toHaveLength(1)
    expect(g.warnings).toEqual([])
  })

  it('steps that need no approval pass untouched', () => {
    const free = { ...step(['d1']), approval: undefined }
    expect(gate([free], { requests: [], decisions: [] }, ctx)).toMatchObject({
      send: [free],
      waiting: [],
      skipped: [],
    })
  })

  // F-F (security review 2026-12-04): the latest self-declared `at` used to win.
  it('a rejection appended after an approval stops the step, even when the approval claims a later time', () => {
    const g = gate(
      [step(['d1'])],
      {
        requests: [asked(['d1'])],
        decisions: [
          decided(['d1'], 'approved', '2026-12-01T11:59:00.000Z', 'mallory'),
          decided(['d1'], 'rejected', '2026-12-01T11:50:00.000Z', 'alice'),
        ],
      },
      ctx,
    )
    expect(g.send).toEqual([])
    expect(g.skipped[0]?.reason).toMatch(/rejected by alice/)
  })
  // F-F2: ISO strings were compared as text, so an offset reordered them.
  it('times with different offsets order nothing: a rejection still outweighs an earlier approval', () => {
    const g = gate(
      [step(['d1'])],
      {
        requests: [asked(['d1'])],
        decisions: [
          decided(['d1'], 'approved', '2026-12-01T16:00:00+05:00', 'bob'),
          decided(['d1'], 'rejected', '2026-12-01T11:30:00.000Z', 'alice'),
        ],
      },
      ctx,
    )
    expect(g.send).toEqual([])
  })
  it('an approval after a rejection does not undo it', () => {
    const g = gate(
      [step(['d1'])],
      { requests: [asked(['d1'])], decisions: [decided(['d1'], 'rejected'), decided(['d1'], 'approved')] },
      ctx,
    )
    expect(g.send).toEqual([])
    expect(g.skipped).toHaveLength(1)
  })
  it('an approval dated beyond the clock tolerance approves nothing and is named in a warning', () => {
    const future = decided(['d1'], 'approved', '2026-12-01T12:06:00.000Z', 'mallory')
    const g = gate([step(['d1'])], { requests: [asked(['d1'])], decisions: [future] }, ctx)
    expect(g.send).toEqual([])
    expect(g.waiting).toHaveLength(1)
    expect(g.warnings).toEqual([
      expect.stringMatching(/approval of disable for u1@contoso\.example .*by mallory .*it approves nothing/),
    ])
    // A rejection so dated still rejects, and is named too.
    const futureNo = decided(['d1'], 'rejected', '2026-12-01T13:00:00.000Z', 'bob')
    const no = gate([step(['d1'])], { requests: [asked(['d1'])], decisions: [futureNo] }, ctx)
    expect(no.skipped).toHaveLength(1)
    expect(no.warnings).toEqual([expect.stringMatching(/a rejection of disable .*by bob .*it still rejects/)])
    // Within the tolerance (a few minutes of skew), it holds.
    const skewed = decided(['d1'], 'approved', '2026-12-01T12:04:00.000Z')
    expect(gate([step(['d1'])], { requests: [asked(['d1'])], decisions: [skewed] }, ctx).send).toHaveLength(1)
  })
  it('approvals from a decisions trail cut at the size cap are not trusted; rejections still are', () => {
    const trails = {
      requests: [asked(['d1'])],
      decisions: [decided(['d1'], 'approved')],
      decisionsCapped: true,
    }
    const g = gate([step(['d1'])], trails, ctx)
    expect(g.send).toEqual([])
    expect(g.warnings.join('\n')).toMatch(/larger than the read cap/)
  })
  // F-G: `every` over no detections was true, so any old record covered the step.
  it('a step with no detections is spoken for only by a record of its exact evidence key', () => {
    const stale = step([], 'risk-only-2026-12')
    const old = { ...asked(['d-old'], '2024-01-01T00:00:00.000Z'), evidenceKey: 'k-old' }
    const g = gate(
      [stale],
      { requests: [old], decisions: [{ ...decided(['d-old'], 'approved'), evidenceKey: 'k-old' }] },
      ctx,
    )
    expect(g.send).toEqual([])
    expect(g.waiting).toMatchObject([{ fresh: true, request: { evidenceKey: 'risk-only-2026-12' } }])
    const same = { ...asked([], '2026-12-01T11:30:00.000Z'), evidenceKey: 'risk-only-2026-12' }
    expect(gate([stale], { requests: [same], decisions: [] }, ctx).waiting).toMatchObject([{ fresh: false }])
  })
  // F-H: the line's own expiresAt decided the timeout.
  it("a request times out by its time plus the policy's timeout, whatever expiry its line claims", () => {
    const forged = { ...asked(['d1'], '2026-12-01T11:30:00.000Z'), expiresAt: '2000-01-01T00:00:00.000Z' }
    const apply = { ...step(['d1']), approval: { timeoutMs: 3_600_000, onTimeout: 'apply' as const } }
    const g = gate([apply], { requests: [forged], decisions: [] }, ctx)
    expect(g.send).toEqual([])
    expect(g.waiting).toMatchObject([{ fresh: false, until: '2026-12-01T12:30:00.000Z' }])
    const late = { ...forged, at: '2026-12-01T10:59:00.000Z', expiresAt: '2099-01-01T00:00:00.000Z' }
    const timedOut = gate([step(['d1'])], { requests: [late], decisions: [] }, ctx)
    expect(timedOut.skipped[0]?.reason).toMatch(/no answer within PT1H .*skipped/)
  })
})

describe('approval trails as input', () => {
  it('a bad line is skipped with a warning naming the trail, the line and what was wrong; the good lines count', () => {
    const good = JSON.stringify(asked(['d1']))
    const forged = JSON.stringify({ ...asked(['d2']), expiresAt: 'never' })
    const read = parseTrail(`not json\n${forged}\n${good}\n`, requestSchema, 'x.approvals.jsonl')
    expect(read.records).toHaveLength(1)
    expect(read.warnings).toEqual([
      expect.stringMatching(/^x\.approvals\.jsonl: line 1 skipped: it is not JSON/),
      expect.stringMatching(/^x\.approvals\.jsonl: line 2 skipped: not a valid record \(expiresAt: /),
    ])
  })
  it('a torn last line (a writer stopped mid-append) is skipped without a warning', () => {
    const good = JSON.stringify(decided(['d1'], 'rejected'))
    const read = parseTrail(`${good}\n{"type":"decision","at":"20`, decisionSchema, 'd.jsonl')
    expect(read).toMatchObject({ records: [{ decision: 'rejected' }], warnings: [], capped: false })
  })
})

describe('approval trails on disk', () => {
  let dir: string
  let config: TrailConfig
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-trails-'))
    await writeFile(
      join(dir, 'policy.yaml'),
      'version: 1\napprovals: { require: [disable], timeout: PT4H }\nrules: []\n',
    )
    // What an approver's machine has: where the trails are; no app credential, no tenant.
    config = loadTrailConfig(
      {},
      { TOURNIQUET_LEDGER: join(dir, 'ledger.jsonl'), TOURNIQUET_POLICY: join(dir, 'policy.yaml') },
    )
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  const trails = (maxBytes?: number) =>
    openTrails(
      config,
      async () => {
        throw new Error('a file trail needs no credential')
      },
      { request: requestSchema, decision: decisionSchema },
      maxBytes === undefined ? {} : { maxBytes },
    )
  const request = (user: string, upn: string): ApprovalRequest => ({
    ...asked(['d1'], new Date(Date.now() - 60_000).toISOString()),
    runId: 'run-9',
    userId: user,
    userPrincipalName: upn,
  })

  it('trails beside a blob ledger are built in its path: a SAS query never makes them the ledger blob', () => {
    const ledger = 'https://acct.blob.core.windows.net/tourniquet/ledger.jsonl?sv=1&sig=abc'
    expect(besideLedger(ledger, '.approvals.jsonl')).toBe(
      'https://acct.blob.core.windows.net/tourniquet/ledger.jsonl.approvals.jsonl',
    )
    expect(besideLedger('/var/tq/ledger.jsonl', '.approvals.jsonl')).toBe(
      '/var/tq/ledger.jsonl.approvals.jsonl',
    )
  })
  it('a blob ledger without TOURNIQUET_DECISIONS is a configuration error naming the variable', () => {
    const blob = 'https://acct.blob.core.windows.net/tourniquet/ledger.jsonl'
    expect(() => decisionsLocation({ ledger: blob, decisions: undefined })).toThrow(
      expect.objectContaining({
        code: 'TQ_RUNNER_CONFIG',
        problems: [expect.objectContaining({ variable: 'TOURNIQUET_DECISIONS' })],
      }),
    )
    expect(
      decisionsLocation({ ledger: blob, decisions: 'https://acct.blob.core.windows.net/decisions/d.jsonl' }),
    ).toMatch(/decisions\/d\.jsonl$/)
  })
  it('a file trail is written private (0600, an existing file narrowed) and never through a symbolic link', async () => {
    const at = join(dir, 'ledger.jsonl.approvals.jsonl')
    await writeFile(at, '', { mode: 0o644 })
    await (await trails()).requests.append([request('u1', 'u1@contoso.example')])
    expect((await stat(at)).mode & 0o777).toBe(0o600)
    await rm(at)
    await writeFile(join(dir, 'elsewhere'), '')
    await symlink(join(dir, 'elsewhere'), at)
    await expect((await trails()).requests.append([request('u1', 'u1@contoso.example')])).rejects.toThrow(
      /symbolic link/,
    )
    await expect((await trails()).requests.load()).rejects.toThrow(/symbolic link/)
    expect((await lstat(at)).isSymbolicLink()).toBe(true)
    expect(await readFile(join(dir, 'elsewhere'), 'utf8')).toBe('')
  })
  it('a read stops at the size cap and says so in a warning', async () => {
    const line = `${JSON.stringify(request('u1', 'u1@contoso.example'))}\n`
    await writeFile(join(dir, 'ledger.jsonl.approvals.jsonl'), line.repeat(10))
    const read = await (await trails(line.length * 3 + 5)).requests.load()
    expect(read.records).toHaveLength(3)
    expect(read.capped).toBe(true)
    expect(read.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `read only the first ${line.length * 3 + 5} bytes of ${line.length * 10} \\(the size cap\\)`,
        ),
      ),
    ])
  })

  it('approve needs --user or --all: a bare --run decides nothing', async () => {
    await (await trails()).requests.append([
      request('u1', 'u1@contoso.example'),
      request('u2', 'u2@contoso.example'),
    ])
    const out = new Sink()
    const err = new Sink()
    expect(await decide(config, { runId: 'run-9' }, 'approved', out, err)).toBe(2)
    expect(err.text).toMatch(/approve needs either --user UPN_OR_ID .* or --all/)
    expect((await (await trails()).decisions.load()).records).toEqual([])
    expect(await decide(config, { runId: 'run-9', all: true }, 'approved', out, err)).toBe(0)
    expect((await (await trails()).decisions.load()).records).toHaveLength(2)
  })
  it('--by is a declared note beside the identity that wrote the decision, never in its place', async () => {
    await (await trails()).requests.append([request('u1', 'u1@contoso.example')])
    const out = new Sink()
    expect(
      await decide(
        config,
        { runId: 'run-9', user: 'U1@contoso.example', by: 'the CISO' },
        'approved',
        out,
        new Sink(),
      ),
    ).toBe(0)
    const [d] = (await (await trails()).decisions.load()).records
    expect(d?.by).not.toBe('the CISO')
    expect(d).toMatchObject({ declaredBy: 'the CISO', by: expect.stringMatching(/@/) })
    expect(out.text).toMatch(/by .+ \(declared the CISO\)/)
  })
  it('a rejection can follow an approval not yet acted on; an approval cannot follow a rejection', async () => {
    await (await trails()).requests.append([request('u1', 'u1@contoso.example')])
    const o = { runId: 'run-9', user: 'u1' }
    expect(await decide(config, o, 'approved', new Sink(), new Sink())).toBe(0)
    expect(await decide(config, o, 'rejected', new Sink(), new Sink())).toBe(0)
    expect(await decide(config, o, 'approved', new Sink(), new Sink())).toBe(2)
    const read = await (await trails()).decisions.load()
    expect(read.records.map((d) => d.decision)).toEqual(['approved', 'rejected'])
  })
  it('the listing escapes every field for the terminal and shows the user id and route', async () => {
    const forged = {
      ...request('u1', 'ceo@contoso.example\u001b[2K\rhelpdesk@contoso.example'),
      route: 'entra:disable\u001b]0;x\u0007',
    }
    await (await trails()).requests.append([forged])
    const out = new Sink()
    expect(await listApprovals(config, out, new Sink())).toBe(0)
    for (const control of ['\u001b', '\r', '\u0007']) expect(out.text).not.toContain(control)
    expect(out.text).toMatch(/ceo@contoso\.example\uFFFD\[2K\uFFFDhelpdesk/)
    expect(out.text).toMatch(/user id.*route/)
    expect(out.text).toMatch(/\bu1\b.*entra:disable/)
  })
  it('a bad decisions line is a warning on stderr for the listing, and the rest is listed', async () => {
    await (await trails()).requests.append([request('u1', 'u1@contoso.example')])
    await writeFile(join(dir, 'ledger.jsonl.decisions.jsonl'), '{"type":"decision"}\n')
    const out = new Sink()
    const err = new Sink()
    expect(await listApprovals(config, out, err)).toBe(0)
    expect(err.text).toMatch(/decisions\.jsonl: line 1 skipped: not a valid record/)
    expect(out.text).toMatch(/u1@contoso\.example/)
  })
})
