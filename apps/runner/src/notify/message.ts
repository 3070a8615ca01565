/**
 * What a run says when it is over, once per run: the counts, the severe steps, what failed. Built from
 * the audit records (already sanitized: no token, secret or password can be in them), then written
 * as a Teams Adaptive Card, Slack Block Kit blocks, or generic JSON.
 */
import type { StepRecord } from '../audit.js'
import type { StepStatus } from '../status.js'

export interface RunDigest {
  runId: string
  tenantId: string
  mode: 'plan' | 'apply'
  outcome: string
  exitCode: number
  counts: Record<StepStatus, number>
  /** Disables and password resets that were sent (any status but planned and skipped). */
  severe: Array<Pick<StepRecord, 'userPrincipalName' | 'action' | 'route' | 'status'>>
  failed: Array<Pick<StepRecord, 'userPrincipalName' | 'action' | 'reason'>>
  /** Steps waiting for a person's approval. */
  pendingApprovals: Array<Pick<StepRecord, 'userPrincipalName' | 'action' | 'rule'>>
  /** How many of them this run asked for (the others were asked for before). */
  newPendingApprovals: number
}

const SEVERE = new Set(['disable', 'forcePasswordReset'])
const ACTED = new Set<StepStatus>(['succeeded', 'failed', 'unverified'])
/** A message stays readable (and within Slack's and Teams' size limits): the rest is counted. */
export const LIST_MAX = 15

export function digestOf(
  records: readonly StepRecord[],
  run: Pick<
    RunDigest,
    'runId' | 'tenantId' | 'mode' | 'outcome' | 'exitCode' | 'counts' | 'newPendingApprovals'
  >,
): RunDigest {
  return {
    ...run,
    severe: records
      .filter((r) => r.action !== null && SEVERE.has(r.action) && ACTED.has(r.status))
      .map(({ userPrincipalName, action, route, status }) => ({ userPrincipalName, action, route, status })),
    failed: records
      .filter((r) => r.status === 'failed')
      .map(({ userPrincipalName, action, reason }) => ({ userPrincipalName, action, reason })),
    pendingApprovals: records
      .filter((r) => r.status === 'pendingApproval')
      .map(({ userPrincipalName, action, rule }) => ({ userPrincipalName, action, rule })),
  }
}

/** A run is worth a message when it acted, failed, or waits on someone; a quiet plan is not. */
export function worthTelling(d: RunDigest): boolean {
  return (
    d.counts.succeeded + d.counts.failed + d.counts.unverified > 0 ||
    d.exitCode !== 0 ||
    d.newPendingApprovals > 0
  )
}

function headline(d: RunDigest): string {
  const c = d.counts
  const waiting = c.pendingApproval > 0 ? `, ${c.pendingApproval} awaiting approval` : ''
  return `Tourniquet ${d.mode} run ${d.runId}: ${d.outcome} (exit ${d.exitCode}). ${c.succeeded} succeeded, ${c.unverified} unverified, ${c.failed} failed, ${c.skipped} skipped${waiting}.`
}

function lines(d: RunDigest): { title: string; items: string[] }[] {
  const more = (n: number): string[] => (n > LIST_MAX ? [`and ${n - LIST_MAX} more`] : [])
  const sections = [
    {
      title: 'Severe steps',
      items: d.severe
        .slice(0, LIST_MAX)
        .map((s) => `${s.action} ${s.userPrincipalName}: ${s.status} (${s.route ?? ''})`),
      total: d.severe.length,
    },
    {
      title: 'Failed',
      items: d.failed
        .slice(0, LIST_MAX)
        .map((s) => `${s.action ?? 'run'} ${s.userPrincipalName}: ${s.reason ?? ''}`),
      total: d.failed.length,
    },
    {
      title: 'Awaiting approval',
      items: d.pendingApprovals
        .slice(0, LIST_MAX)
        .map((s) => `${s.action} ${s.userPrincipalName} (rule ${s.rule ?? ''})`),
      total: d.pendingApprovals.length,
    },
  ]
  return sections
    .filter((s) => s.total > 0)
    .map((s) => ({ title: s.title, items: [...s.items, ...more(s.total)] }))
}

/** A Workflows webhook takes a message with one Adaptive Card attachment (version 1.4). */
export function teamsPayload(d: RunDigest): unknown {
  const body: unknown[] = [
    { type: 'TextBlock', text: 'Tourniquet', weight: 'Bolder', size: 'Medium' },
    { type: 'TextBlock', text: headline(d), wrap: true },
    {
      type: 'FactSet',
      facts: [
        { title: 'Tenant', value: d.tenantId },
        { title: 'Run', value: d.runId },
        { title: 'Outcome', value: `${d.outcome} (exit ${d.exitCode})` },
      ],
    },
  ]
  for (const s of lines(d)) {
    body.push({ type: 'TextBlock', text: s.title, weight: 'Bolder', wrap: true })
    body.push({ type: 'TextBlock', text: s.items.map((i) => `- ${i}`).join('\n'), wrap: true })
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
        },
      },
    ],
  }
}

// Slack: a section's text is at most 3,000 characters; mrkdwn needs &, < and > escaped.
const slackText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').slice(0, 3_000)

/** An incoming webhook takes `text` (the notification's fallback) and Block Kit `blocks`. */
export function slackPayload(d: RunDigest): unknown {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Tourniquet' } },
    { type: 'section', text: { type: 'mrkdwn', text: slackText(headline(d)) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: slackText(`tenant ${d.tenantId}`) }] },
  ]
  for (const s of lines(d))
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: slackText(`*${s.title}*\n${s.items.map((i) => `• ${i}`).join('\n')}`) },
    })
  return { text: headline(d), blocks }
}

/** Generic JSON: the digest itself, versioned. */
export function jsonPayload(d: RunDigest): unknown {
  return { type: 'tourniquet.run', version: 1, ...d }
}
