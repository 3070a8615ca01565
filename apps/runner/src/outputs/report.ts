import type { Plan } from '@tourniquet/policy'
import { openPrivate } from '../stores/privateFile.js'
import type { StepRecord } from './audit.js'
import { escapeField } from './escape.js'

/** Every interpolated value, table cell or not: the tenant chooses most of them. */
const md = (s: string | null | undefined): string => escapeField(s, 'markdown')

/** A Markdown report of the run for the humans who review it (TOURNIQUET_REPORT). */
export async function writeReport(
  path: string,
  runId: string,
  plan: Plan,
  records: readonly StepRecord[],
): Promise<void> {
  const lines = [
    `# Tourniquet run ${md(runId)}`,
    '',
    `Evaluated at ${md(plan.evaluatedAt)}; detections since ${md(plan.lookbackStart)}.`,
    '',
    '| user | rule | action | route | status | reason | request-id |',
    '|---|---|---|---|---|---|---|',
    ...records.map(
      (r) =>
        `| ${md(r.userPrincipalName)} | ${md(r.rule)} | ${md(r.action)} | ${md(r.route)} | ${md(r.status)} | ${md(r.reason)} | ${md(r.graphRequestId)} |`,
    ),
    '',
    '## Why',
    '',
    ...plan.users.map((u) => {
      const j = u.justification
      const signals = j.detections
        .map((d) => `${md(d.riskEventType)} (${md(d.source ?? 'unknown source')}, ${md(d.detectedDateTime)})`)
        .join(', ')
      return `- ${md(u.userPrincipalName)}: rule ${u.rules.map(md).join(', ')}; risk ${md(j.riskLevel)}/${md(j.riskState)}; signals ${signals || 'none in the window'}`
    }),
    '',
  ]
  const handle = await openPrivate(path, 'truncate')
  try {
    await handle.writeFile(lines.join('\n'))
  } finally {
    await handle.close()
  }
}
