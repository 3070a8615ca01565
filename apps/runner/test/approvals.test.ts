import type { Step } from '@tourniquet/policy'
import { describe, expect, it } from 'vitest'
import { gate } from '../src/approvals/gate.js'
import {
  type ApprovalDecision,
  type ApprovalRequest,
  parseTrail,
  requestSchema,
} from '../src/approvals/records.js'

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
  by: 'alice',
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
  it('the latest decision speaks; a rejection skips with who decided', () => {
    const s = step(['d1'])
    const g = gate(
      [s],
      {
        requests: [asked(['d1'])],
        decisions: [
          decided(['d1'], 'approved', '2026-12-01T11:40:00.000Z'),
          decided(['d1'], 'rejected', '2026-12-01T11:50:00.000Z'),
        ],
      },
      ctx,
    )
    expect(g.skipped[0]?.reason).toMatch(/rejected by alice/)
  })
  it('steps that need no approval pass untouched', () => {
    const free = { ...step(['d1']), approval: undefined }
    expect(gate([free], { requests: [], decisions: [] }, ctx)).toMatchObject({
      send: [free],
      waiting: [],
      skipped: [],
    })
  })
})

describe('approval trails as input', () => {
  it('a line that is not a record is an error naming the file, the line and the field, with the ledger-corrupt code', () => {
    const good = JSON.stringify(asked(['d1']))
    expect(() => parseTrail(`${good}\nnot json\n`, requestSchema, 'x.approvals.jsonl')).toThrow(
      /x\.approvals\.jsonl: line 2 is not JSON/,
    )
    const forged = JSON.stringify({ ...asked(['d1']), expiresAt: 'never' })
    const error = (() => {
      try {
        parseTrail(forged, requestSchema, 'x.approvals.jsonl')
      } catch (e) {
        return e
      }
    })()
    expect(error).toMatchObject({ code: 'TQ_RUNNER_LEDGER_CORRUPT' })
    expect((error as Error).message).toMatch(/line 1 is not a valid record \(expiresAt: /)
  })
})
