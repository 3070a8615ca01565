/**
 * What a run says when it is over, once per run: the counts, the severe steps, what failed. Built from
 * the audit records (already sanitized: no token, secret or password can be in them), then written
 * as a Teams Adaptive Card, Slack Block Kit blocks, or generic JSON.
 */

import type { StepStatus } from '../../engine/status.js'
import type { StepRecord } from '../audit.js'

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
  /** A line the watch adds: that a failure told before has cleared. */
  note?: string
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

/** The message a single run sends: its digest when it is worth telling. */
export const tellWorthy = (d: RunDigest): RunDigest | undefined => (worthTelling(d) ? d : undefined)

/** What makes two failures the same failure: the ending and which steps failed, not the wording. */
function failureOf(d: RunDigest): string | undefined {
  if (d.exitCode === 0 && d.failed.length === 0) return undefined
  const steps = d.failed.map((f) => `${f.action ?? 'run'} ${f.userPrincipalName}`).sort()
  return JSON.stringify([d.exitCode, d.outcome, steps])
}

/**
 * For a process that runs again and again (`tourniquet watch`, every 15 s): a failure is told once,
 * then again only when it changes or clears, instead of every run. A run that also acted or asked
 * for an approval is told as usual. The state lives in the returned function, owned by the loop
 * that calls it: one per watch, none in module scope.
 */
export function onceUntilChanged(): (d: RunDigest) => RunDigest | undefined {
  let told: string | undefined
  return (d) => {
    const failure = failureOf(d)
    const before = told
    told = failure
    const news = d.counts.succeeded + d.counts.unverified > 0 || d.newPendingApprovals > 0
    if (failure !== undefined) return failure !== before || news ? d : undefined
    if (before !== undefined) return { ...d, note: 'The failure told before has cleared.' }
    return tellWorthy(d)
  }
}

function headline(d: RunDigest): string {
  const c = d.counts
  const waiting = c.pendingApproval > 0 ? `, ${c.pendingApproval} awaiting approval` : ''
  const note = d.note === undefined ? '' : ` ${d.note}`
  return `Tourniquet ${d.mode} run ${d.runId}: ${d.outcome} (exit ${d.exitCode}). ${c.succeeded} succeeded, ${c.unverified} unverified, ${c.failed} failed, ${c.skipped} skipped${waiting}.${note}`
}

/** One list item stays short: a reason can be long Graph text, and the card has a size limit. */
const ITEM_MAX = 300
const short = (s: string): string => (s.length > ITEM_MAX ? `${s.slice(0, ITEM_MAX - 1)}…` : s)

/** The lists, each cut to `max` items and counted ("and N more"). */
function lines(d: RunDigest, max = LIST_MAX): { title: string; items: string[] }[] {
  const sections = [
    {
      title: 'Severe steps',
      items: d.severe.map((s) => `${s.action} ${s.userPrincipalName}: ${s.status} (${s.route ?? ''})`),
    },
    {
      title: 'Failed',
      items: d.failed.map((s) => `${s.action ?? 'run'} ${s.userPrincipalName}: ${s.reason ?? ''}`),
    },
    {
      title: 'Awaiting approval',
      items: d.pendingApprovals.map((s) => `${s.action} ${s.userPrincipalName} (rule ${s.rule ?? ''})`),
    },
  ]
  return sections
    .filter((s) => s.items.length > 0)
    .map((s) => ({
      title: s.title,
      items: [
        ...s.items.slice(0, max).map(short),
        ...(s.items.length > max ? [`and ${s.items.length - max} more`] : []),
      ],
    }))
}

/**
 * A Workflows flow posts the card with the Teams connector's "post card in a chat or channel", whose
 * message limit is about 28 KB; above it the post fails "Request Entity too large"
 * (https://learn.microsoft.com/connectors/teams/, known issues; the incoming-webhook page says
 * 28 KB too). The card is built within it with headroom: the lists shrink and say how many more.
 */
export const TEAMS_MAX_BYTES = 27 * 1024

/** A Workflows webhook takes a message with one Adaptive Card attachment (version 1.4). */
export function teamsPayload(d: RunDigest): unknown {
  for (let max = LIST_MAX; ; max--) {
    const payload = teamsCard(d, max)
    if (max === 0 || Buffer.byteLength(JSON.stringify(payload)) <= TEAMS_MAX_BYTES) return payload
  }
}

function teamsCard(d: RunDigest, max: number): unknown {
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
  for (const s of lines(d, max)) {
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

const SLACK_ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' }
const SLACK_TEXT_MAX = 3_000

/**
 * Slack: a section's text is at most 3,000 characters; mrkdwn needs &, < and > escaped. The text is
 * cut before it is escaped, at a whole character, so the cut never splits an entity (a dangling
 * `&am` would show) or a surrogate pair.
 */
export function slackText(s: string): string {
  let out = ''
  for (const ch of s) {
    const piece = SLACK_ENTITY[ch] ?? ch
    if (out.length + piece.length > SLACK_TEXT_MAX) break
    out += piece
  }
  return out
}

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
