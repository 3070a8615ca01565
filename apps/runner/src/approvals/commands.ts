/**
 * `tourniquet approvals`, `approve` and `reject`: the people's side of approvals, on the same
 * configuration as `run`. Listing reads the trails; a decision appends one line per matching request
 * with who decided (`--by`, else the signed-in identity for a blob trail, else the local user) and
 * when. Exit 0 when something was listed or recorded, 2 when the reference matches no open request.
 */
import { hostname, userInfo } from 'node:os'
import type { Writable } from 'node:stream'
import { canonicalAction } from '@tourniquet/policy'
import { claimsOf } from '../claims.js'
import { credentialFor } from '../client.js'
import type { RunnerConfig } from '../env.js'
import { EXIT } from '../exit.js'
import {
  type ApprovalDecision,
  type ApprovalRequest,
  approvalKey,
  decisionSchema,
  requestSchema,
} from './records.js'
import { openTrails } from './store.js'

export interface DecideOptions {
  runId: string
  user?: string | undefined
  action?: string | undefined
  reason?: string | undefined
  by?: string | undefined
}

async function trailsOf(config: RunnerConfig) {
  return openTrails(config, () => credentialFor(config), { request: requestSchema, decision: decisionSchema })
}

/** Requests not yet decided and not past their timeout. */
function open(requests: ApprovalRequest[], decisions: ApprovalDecision[], now: number): ApprovalRequest[] {
  const decided = new Set(decisions.map(approvalKey))
  const seen = new Set<string>()
  return requests.filter((r) => {
    const key = approvalKey(r)
    if (decided.has(key) || seen.has(key) || Date.parse(r.expiresAt) < now) return false
    seen.add(key)
    return true
  })
}

const age = (at: string, now: number): string => {
  const minutes = Math.max(0, Math.round((now - Date.parse(at)) / 60_000))
  return minutes < 90 ? `${minutes} min` : `${Math.round(minutes / 60)} h`
}

export async function listApprovals(config: RunnerConfig, out: Writable): Promise<number> {
  const { requests, decisions } = await trailsOf(config)
  const now = Date.now()
  const pending = open(await requests.load(), await decisions.load(), now)
  if (pending.length === 0) {
    out.write('no step waits for approval\n')
    return EXIT.ok
  }
  out.write(
    'run id                            user                                      action              rule                  age     evidence\n',
  )
  for (const r of pending)
    out.write(
      `${r.runId.padEnd(34)}${r.userPrincipalName.padEnd(42)}${r.action.padEnd(20)}${r.rule.padEnd(22)}${age(r.at, now).padEnd(8)}${r.evidence.join(', ') || '(risk level)'}\n`,
    )
  out.write(
    `${pending.length} waiting; tourniquet approve --run RUN_ID [--user UPN] [--action ACTION] (or reject)\n`,
  )
  return EXIT.ok
}

/** Who decides: --by, else the signed-in identity of the Storage token (blob trails), else the local user. */
async function decider(config: RunnerConfig, by: string | undefined, remote: boolean): Promise<string> {
  if (by !== undefined && by.trim() !== '') return by.trim()
  if (remote) {
    const { storageCredential } = await import('../ledger/blobLedger.js')
    const token = await storageCredential(config, await credentialFor(config)).getToken(
      'https://storage.azure.com/.default',
    )
    const claims = claimsOf(token?.token)
    const name = [claims.upn, claims.unique_name, claims.preferred_username, claims.appid, claims.oid].find(
      (v) => typeof v === 'string',
    )
    if (typeof name === 'string') return name
  }
  return `${userInfo().username}@${hostname()}`
}

export async function decide(
  config: RunnerConfig,
  o: DecideOptions,
  decision: 'approved' | 'rejected',
  out: Writable,
  err: Writable,
): Promise<number> {
  const action = o.action === undefined ? undefined : canonicalAction(o.action)
  if (o.action !== undefined && action === undefined) {
    err.write(`tourniquet: --action: '${o.action}' is not an action\n`)
    return EXIT.configuration
  }
  const { requests, decisions } = await trailsOf(config)
  const user = o.user?.toLowerCase()
  const matching = open(await requests.load(), await decisions.load(), Date.now()).filter(
    (r) =>
      r.runId === o.runId &&
      (user === undefined || r.userId.toLowerCase() === user || r.userPrincipalName.toLowerCase() === user) &&
      (action === undefined || r.action === action),
  )
  if (matching.length === 0) {
    err.write(
      `tourniquet: no open approval request matches --run ${o.runId}${o.user ? ` --user ${o.user}` : ''}${o.action ? ` --action ${o.action}` : ''} (see tourniquet approvals)\n`,
    )
    return EXIT.configuration
  }
  const by = await decider(config, o.by, /^https?:/i.test(decisions.location))
  const at = new Date().toISOString()
  await decisions.append(
    matching.map((r) => ({
      type: 'decision' as const,
      at,
      runId: r.runId,
      userId: r.userId,
      userPrincipalName: r.userPrincipalName,
      action: r.action,
      evidenceKey: r.evidenceKey,
      detections: r.detections,
      decision,
      by,
      ...(o.reason ? { reason: o.reason } : {}),
    })),
  )
  for (const r of matching)
    out.write(`${decision} ${r.action} ${r.userPrincipalName} (run ${r.runId}) by ${by}\n`)
  return EXIT.ok
}
