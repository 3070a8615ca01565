import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BLOB_LOG_CATEGORIES, DECISIONS_CONTAINER } from '../src/components/ledgerStore.js'
import { auditQueries, decisionQueries } from '../src/workbook/queries.js'

// Real audit output of the built runner against the mock (see fixtures/README.md).
const LINES = readFileSync(join(import.meta.dirname, 'fixtures', 'audit.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Record<string, unknown>)
const JOB = 'tq-dev-runner'
const APP = 'tq-dev-watch'
const QUERIES = Object.entries(auditQueries({ jobName: JOB, appName: APP }))

/** Every audit field a query reads: e.<field>. */
const fieldsOf = (query: string) => [
  ...new Set([...query.matchAll(/\be\.(\w+)/g)].map((m) => m[1] as string)),
]
/** Every string literal a query compares with, except the runner's names and columns (not audit values). */
const literalsOf = (query: string) =>
  [...new Set([...query.matchAll(/"([^"]*)"/g)].map((m) => m[1] as string))].filter(
    (l) => ![JOB, APP, 'ContainerJobName_s', 'ContainerAppName_s', ''].includes(l),
  )

describe('the workbook queries against recorded audit lines', () => {
  it('the fixture holds a step of every status the queries filter on, and every event', () => {
    const statuses = new Set(LINES.filter((l) => l.event === 'step').map((l) => l.status))
    for (const s of ['succeeded', 'failed', 'unverified', 'pendingApproval', 'planned'])
      expect(statuses).toContain(s)
    const events = new Set(LINES.map((l) => l.event))
    for (const e of ['start', 'step', 'summary']) expect(events).toContain(e)
  })

  it.each(QUERIES)('%s: every field it reads occurs in the audit lines', (_name, q) => {
    const fields = fieldsOf(q.query)
    expect(fields.length).toBeGreaterThan(0)
    const missing = fields.filter((f) => !LINES.some((l) => f in l))
    expect(missing).toEqual([])
  })

  it.each(QUERIES)(
    '%s: every event or status it filters on occurs as such in the audit lines',
    (_name, q) => {
      const literals = literalsOf(q.query)
      expect(literals.length).toBeGreaterThan(0)
      const missing = literals.filter((lit) => !LINES.some((l) => l.event === lit || l.status === lit))
      expect(missing).toEqual([])
    },
  )

  // A job logs its name in ContainerJobName_s, a Container App in ContainerAppName_s; a workspace
  // that never saw one of them lacks that column, and naming it directly would fail the query.
  it.each(QUERIES)('%s: reads only the job or the watcher named, from the console log table', (_name, q) => {
    expect(q.query).toContain(
      `ContainerAppConsoleLogs_CL\n| where column_ifexists("ContainerJobName_s", "") == "${JOB}" or column_ifexists("ContainerAppName_s", "") == "${APP}"`,
    )
    expect(q.query).not.toMatch(/(?<!")Container(Job|App)Name_s ==/)
    expect(q.query).toContain('parse_json(Log_s)')
  })

  it('a field the audit does not write is caught (the check can fail)', () => {
    const renamed = 'x | where tostring(e.event) == "step" | project tostring(e.upn)'
    expect(fieldsOf(renamed).filter((f) => !LINES.some((l) => f in l))).toEqual(['upn'])
    expect(literalsOf('x | where tostring(e.status) == "pending"')).toEqual(['pending'])
    expect(LINES.some((l) => l.status === 'pending')).toBe(false)
  })

  it('fields are read where they are written: summary fields on summary lines, step fields on step lines', () => {
    const where = (event: string, field: string) => LINES.some((l) => l.event === event && field in l)
    expect(where('summary', 'outcome')).toBe(true)
    for (const f of [
      'rule',
      'action',
      'route',
      'status',
      'reason',
      'userId',
      'userPrincipalName',
      'evidenceKey',
      'graphRequestId',
      'correlationId',
    ])
      expect(where('step', f)).toBe(true)
    expect(where('start', 'runId')).toBe(true)
  })
})

describe("the decision writers' query over the ledger account's blob logs", () => {
  const ACCOUNT = 'tqstab12cd34ef56'
  const { decisionWrites } = decisionQueries({
    accountName: ACCOUNT,
    container: DECISIONS_CONTAINER,
    categories: BLOB_LOG_CATEGORIES,
  })

  it('reads the categories the diagnostic setting sends, of the ledger account, in the decisions container only', () => {
    expect(decisionWrites.query).toMatch(/^StorageBlobLogs\n/)
    expect(decisionWrites.query).toContain(
      `where AccountName == "${ACCOUNT}" and Category in ("StorageWrite", "StorageDelete")`,
    )
    // The path's first segment, not "contains": a ledger blob named .../decisions/... is not a decision.
    expect(decisionWrites.query).toContain('extend blob = tostring(parse_url(Uri).Path)')
    expect(decisionWrites.query).toContain('where blob startswith "/decisions/"')
  })

  it('shows who wrote (object id, UPN, how authenticated, from where), what, with which status', () => {
    const project = decisionWrites.query.split('\n').find((l) => l.startsWith('| project ')) ?? ''
    expect(project.replace('| project ', '').split(', ')).toEqual([
      'TimeGenerated',
      'RequesterObjectId',
      'RequesterUpn',
      'AuthenticationType',
      'CallerIpAddress',
      'OperationName',
      'StatusCode',
      'blob',
    ])
  })
})
