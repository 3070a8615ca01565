import type { Plan, ServicePrincipalPlan } from '@tourniquet/policy'
import { openPrivate } from '../stores/privateFile.js'
import type { StepRecord } from './audit.js'
import { escapeField } from './escape.js'

/** Every interpolated value, table cell or not: the tenant chooses most of them. */
const md = (s: string | null | undefined): string => escapeField(s, 'markdown')

/** Why each service principal was acted on, when the policy has a servicePrincipals section. */
function workloadWhy(plan: ServicePrincipalPlan | undefined): string[] {
  if (!plan || plan.principals.length === 0) return []
  return [
    '',
    '## Why (workload identities)',
    '',
    ...plan.principals.map((p) => {
      const j = p.justification
      const signals = j.detections.map((d) => `${md(d.riskEventType)} (${md(d.detectedDateTime)})`).join(', ')
      return `- ${md(p.displayName)} (app ${md(p.appId ?? 'unknown')}, ${md(j.servicePrincipalType ?? 'unknown type')}, owner ${md(j.appOwner ?? 'unknown')}): rule ${p.rules.map(md).join(', ')}; risk ${md(j.riskLevel)}/${md(j.riskState)}; signals ${signals || 'none in the window'}`
    }),
  ]
}

const kindOf = (r: StepRecord): string => (r.subject === 'servicePrincipal' ? 'service principal' : 'user')

/**
 * A Markdown report of the run for the humans who review it (TOURNIQUET_REPORT): both kinds of
 * identity in one table, users and service principals, each with why it was acted on.
 */
export async function writeReport(
  path: string,
  runId: string,
  plan: Plan,
  records: readonly StepRecord[],
  workloads?: ServicePrincipalPlan,
): Promise<void> {
  const lines = [
    `# Tourniquet run ${md(runId)}`,
    '',
    `Evaluated at ${md(plan.evaluatedAt)}; detections since ${md(plan.lookbackStart)}.`,
    '',
    '| identity | kind | rule | action | route | status | reason | request-id |',
    '|---|---|---|---|---|---|---|---|',
    ...records.map(
      (r) =>
        `| ${md(r.userPrincipalName)} | ${kindOf(r)} | ${md(r.rule)} | ${md(r.action)} | ${md(r.route)} | ${md(r.status)} | ${md(r.reason)} | ${md(r.graphRequestId)} |`,
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
    ...workloadWhy(workloads),
    '',
  ]
  const handle = await openPrivate(path, 'truncate')
  try {
    await handle.writeFile(lines.join('\n'))
  } finally {
    await handle.close()
  }
}
