/**
 * `tourniquet approvals`, `approve` and `reject`: the people's side of approvals. They need where
 * the trails are and no app credential: a file trail needs no sign-in, and a blob trail is reached
 * as the person at the keyboard (their Azure CLI account, signIn.ts). Listing reads the trails; a
 * decision appends one line per matching request with who decided (the signed-in identity for a
 * blob trail, else the local user; `--by` is kept beside it as a declared note, never in its place)
 * and when. Exit 0 when something was listed or recorded, 2 when the reference matches no open
 * request or names no user (`--user` or `--all`).
 */
import { hostname, userInfo } from 'node:os'
import type { Writable } from 'node:stream'
import type { TokenCredential } from '@azure/core-auth'
import { canonicalAction, loadPolicyFile, SERVICE_PRINCIPAL_ACTIONS } from '@tourniquet/policy'
import {
  type ApprovalDecision,
  type ApprovalRequest,
  approvalKey,
  deciderOf,
  decisionSchema,
  requestSchema,
} from '../approvals/records.js'
import { ApproverSignInError, azureCliCredential } from '../approvals/signIn.js'
import { openTrails } from '../approvals/store.js'
import { claimsOf } from '../engine/claims.js'
import type { TrailConfig } from '../env.js'
import { isSettingsError } from '../errors.js'
import { EXIT } from '../exit.js'
import { escapeField } from '../outputs/escape.js'
import { blobClients } from '../stores/blobClients.js'

/** How the commands reach blob trails; the Azure CLI's signed-in account unless a caller says otherwise. */
export interface TrailAccess {
  storage?: () => Promise<TokenCredential>
}

function storageOf(config: TrailConfig, access: TrailAccess): () => Promise<TokenCredential> {
  let credential: TokenCredential | undefined
  return async () => {
    credential ??= access.storage ? await access.storage() : azureCliCredential(config.tenantId)
    return credential
  }
}

export interface DecideOptions {
  runId: string
  user?: string | undefined
  /** Every open step of the run: must be said on purpose, never the default of a missing --user. */
  all?: boolean | undefined
  action?: string | undefined
  reason?: string | undefined
  /** A name the approver declares; recorded beside the identity that wrote the line. */
  by?: string | undefined
}

type Read = Awaited<ReturnType<typeof readTrails>>

/** The trails, or the exit code when the settings cannot locate them (reported on stderr). */
async function readOrExplain(
  config: TrailConfig,
  err: Writable,
  storage: () => Promise<TokenCredential>,
): Promise<Read | number> {
  try {
    return await readTrails(config, err, storage)
  } catch (e) {
    if (e instanceof ApproverSignInError) {
      err.write(`tourniquet: sign-in failed, nothing done: ${e.message}\n`)
      return EXIT.configuration
    }
    if (!isSettingsError(e)) throw e
    err.write(
      `tourniquet: configuration error, nothing done:\n${e.problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}\n`,
    )
    return EXIT.configuration
  }
}

async function readTrails(config: TrailConfig, err: Writable, storage: () => Promise<TokenCredential>) {
  const trails = await openTrails(config, async () => blobClients(await storage()), {
    request: requestSchema,
    decision: decisionSchema,
  })
  const [requests, decisions] = await Promise.all([trails.requests.load(), trails.decisions.load()])
  for (const w of [...requests.warnings, ...decisions.warnings])
    err.write(`tourniquet: warning: ${escapeField(w, 'terminal')}\n`)
  return { trails, requests: requests.records, decisions: decisions.records }
}

/** Per request key, what was decided so far: a rejection outweighs approvals, as in the gate. */
function verdicts(decisions: readonly ApprovalDecision[]): Map<string, 'approved' | 'rejected'> {
  const out = new Map<string, 'approved' | 'rejected'>()
  for (const d of decisions) {
    const key = approvalKey(d)
    if (out.get(key) !== 'rejected') out.set(key, d.decision)
  }
  return out
}

/**
 * The policy's approvals timeout, when the policy file is at hand: the gate times a request out from
 * its time plus this, so the listing does too. Without the file, the line's own expiry is shown.
 */
async function policyTimeout(config: TrailConfig): Promise<number | undefined> {
  try {
    return (await loadPolicyFile(config.policyPath)).approvals.timeout
  } catch {
    return undefined
  }
}

const expiryOf = (r: ApprovalRequest, timeoutMs: number | undefined): number =>
  timeoutMs === undefined ? Date.parse(r.expiresAt) : Date.parse(r.at) + timeoutMs

/** One request per key, not past its timeout, whose verdict so far is one of `accept`. */
function requestsWith(
  requests: readonly ApprovalRequest[],
  decisions: readonly ApprovalDecision[],
  accept: ReadonlyArray<'open' | 'approved' | 'rejected'>,
  now: number,
  timeoutMs: number | undefined,
): ApprovalRequest[] {
  const decided = verdicts(decisions)
  const seen = new Set<string>()
  return requests.filter((r) => {
    const key = approvalKey(r)
    if (seen.has(key) || expiryOf(r, timeoutMs) < now || !accept.includes(decided.get(key) ?? 'open'))
      return false
    seen.add(key)
    return true
  })
}

const age = (at: string, now: number): string => {
  const minutes = Math.max(0, Math.round((now - Date.parse(at)) / 60_000))
  return minutes < 90 ? `${minutes} min` : `${Math.round(minutes / 60)} h`
}

/** A column for the terminal: escaped first (a forged line must not rewrite the screen), then padded. */
const cell = (value: string, width: number): string => `${escapeField(value, 'terminal')} `.padEnd(width)

export async function listApprovals(
  config: TrailConfig,
  out: Writable,
  err?: Writable,
  access: TrailAccess = {},
): Promise<number> {
  const read = await readOrExplain(config, err ?? out, storageOf(config, access))
  if (typeof read === 'number') return read
  const { requests, decisions } = read
  const now = Date.now()
  const pending = requestsWith(requests, decisions, ['open'], now, await policyTimeout(config))
  if (pending.length === 0) {
    out.write('no step waits for approval\n')
    return EXIT.ok
  }
  out.write(
    `${'run id'.padEnd(34)}${'user'.padEnd(42)}${'user id'.padEnd(38)}${'action'.padEnd(20)}${'route'.padEnd(28)}${'rule'.padEnd(22)}${'age'.padEnd(8)}evidence\n`,
  )
  for (const r of pending)
    out.write(
      `${cell(r.runId, 34)}${cell(r.userPrincipalName, 42)}${cell(r.userId, 38)}${cell(r.action, 20)}${cell(r.route, 28)}${cell(r.rule, 22)}${age(r.at, now).padEnd(8)}${escapeField(r.evidence.join(', ') || '(risk level)', 'terminal')}\n`,
    )
  out.write(
    `${pending.length} waiting; tourniquet approve --run RUN_ID (--user UPN_OR_ID | --all) [--action ACTION] (or reject)\n`,
  )
  return EXIT.ok
}

/** Who decides: the signed-in identity of the Storage token (blob trails), else the local user. */
async function decider(storage: () => Promise<TokenCredential>, remote: boolean): Promise<string> {
  if (remote) {
    const token = await (await storage()).getToken('https://storage.azure.com/.default')
    const claims = claimsOf(token?.token)
    const name = [claims.upn, claims.unique_name, claims.preferred_username, claims.appid, claims.oid].find(
      (v) => typeof v === 'string',
    )
    if (typeof name === 'string') return name
  }
  return `${userInfo().username}@${hostname()}`
}

export async function decide(
  config: TrailConfig,
  o: DecideOptions,
  decision: 'approved' | 'rejected',
  out: Writable,
  err: Writable,
  access: TrailAccess = {},
): Promise<number> {
  const storage = storageOf(config, access)
  const action = checkedOptions(o, decision, err)
  if (typeof action === 'number') return action
  const read = await readOrExplain(config, err, storage)
  if (typeof read === 'number') return read
  const { trails, requests, decisions } = read
  // A rejection may follow an approval (until the step is sent, the gate then skips it); an
  // approval never overrides a rejection.
  const accept = decision === 'approved' ? (['open'] as const) : (['open', 'approved'] as const)
  const open = requestsWith(requests, decisions, accept, Date.now(), await policyTimeout(config))
  const matching = open.filter(matches(o, action.value))
  if (matching.length === 0) {
    const ref = `--run ${o.runId}${o.user ? ` --user ${o.user}` : ''}${o.all ? ' --all' : ''}${o.action ? ` --action ${o.action}` : ''}`
    err.write(
      `tourniquet: no open approval request matches ${escapeField(ref, 'terminal')} (see tourniquet approvals)\n`,
    )
    return EXIT.configuration
  }
  const by = await decider(storage, /^https?:/i.test(trails.decisions.location))
  const lines = decisionLines(matching, decision, by, o)
  await trails.decisions.append(lines)
  for (const d of lines)
    out.write(
      `${escapeField(`${decision} ${d.action} ${d.userPrincipalName} (run ${d.runId}) by ${deciderOf(d)}`, 'terminal')}\n`,
    )
  return EXIT.ok
}

/** The `--action` asked for (undefined: any), or the exit code of options that cannot be used. */
function checkedOptions(
  o: DecideOptions,
  decision: 'approved' | 'rejected',
  err: Writable,
): { value: string | undefined } | number {
  const action = o.action === undefined ? undefined : anyAction(o.action)
  if (o.action !== undefined && action === undefined) {
    err.write(`tourniquet: --action: '${escapeField(o.action, 'terminal')}' is not an action\n`)
    return EXIT.configuration
  }
  // One mistyped command must not decide dozens of steps: "all of them" is said with --all.
  if ((o.user === undefined || o.user === '') === (o.all !== true)) {
    const verb = decision === 'approved' ? 'approve' : 'reject'
    err.write(
      `tourniquet: ${verb} needs either --user UPN_OR_ID (one person's steps) or --all (every open step of the run), not both or neither\n`,
    )
    return EXIT.configuration
  }
  return { value: action }
}

/** A user action (or its alias) or a service principal action (`removeCredentials`). */
function anyAction(name: string): string | undefined {
  if ((SERVICE_PRINCIPAL_ACTIONS as readonly string[]).includes(name)) return name
  return canonicalAction(name)
}

/** Whether an open request is one the options name: the run, and the subject and action when given. */
function matches(o: DecideOptions, action: string | undefined) {
  const user = o.all ? undefined : o.user?.toLowerCase()
  return (r: ApprovalRequest): boolean =>
    r.runId === o.runId &&
    (user === undefined || r.userId.toLowerCase() === user || r.userPrincipalName.toLowerCase() === user) &&
    (action === undefined || r.action === action)
}

/** One decision line per matching request, by the signed-in identity; `--by` only as a declared note. */
function decisionLines(
  matching: readonly ApprovalRequest[],
  decision: 'approved' | 'rejected',
  by: ApprovalDecision['by'],
  o: DecideOptions,
): ApprovalDecision[] {
  const declared = o.by?.trim() ? o.by.trim() : undefined
  const at = new Date().toISOString()
  return matching.map((r) => ({
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
    ...(declared ? { declaredBy: declared } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  }))
}
