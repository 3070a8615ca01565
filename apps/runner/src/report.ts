import { writeFile } from 'node:fs/promises'
import type { Plan } from '@tourniquet/policy'
import type { StepRecord } from './audit.js'

const cell = (s: string | null): string => (s ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ')

/** A Markdown report of the run for the humans who review it (TOURNIQUET_REPORT). */
export async function writeReport(
  path: string,
  runId: string,
  plan: Plan,
  records: StepRecord[],
): Promise<void> {
  const lines = [
    `# Tourniquet run ${runId}`,
    '',
    `Evaluated at ${plan.evaluatedAt}; detections since ${plan.lookbackStart}.`,
    '',
    '| user | rule | action | route | status | reason | request-id |',
    '|---|---|---|---|---|---|---|',
    ...records.map(
      (r) =>
        `| ${cell(r.userPrincipalName)} | ${cell(r.rule)} | ${cell(r.action)} | ${cell(r.route)} | ${r.status} | ${cell(r.reason)} | ${cell(r.graphRequestId)} |`,
    ),
    '',
    '## Why',
    '',
    ...plan.users.map(
      (u) =>
        `- ${u.userPrincipalName}: rule ${u.rules.join(', ')}; risk ${u.justification.riskLevel}/${u.justification.riskState}; signals ${u.justification.detections.map((d) => `${d.riskEventType} (${d.source ?? 'unknown source'}, ${d.detectedDateTime})`).join(', ') || 'none in the window'}`,
    ),
    '',
  ]
  await writeFile(path, lines.join('\n'))
}
