/**
 * `tourniquet doctor`: a read-only preflight against the configured tenant, with the same
 * configuration as `run`. It sends no write and takes no lock: a sign-in, a few one-page reads, the
 * ledger read and its lock looked at (taking it, even briefly, would make a scheduled run that starts
 * meanwhile skip), the evidence state and the decisions trail read. One line per check, ok /
 * missing / cannot tell / note, each with what to do.
 * Exit 0 when the policy can run as written, 1 when something it needs is missing, 2 on a
 * configuration, policy or sign-in error.
 */
import type { Writable } from 'node:stream'
import {
  type Credential,
  createTokenProvider,
  type GraphClient,
  isAuthError,
  isConfigError,
  isGraphError,
  isTourniquetError,
} from '@tourniquet/core'
import {
  API_NAMES,
  apiAvailable,
  apiNeeds,
  isPolicyError,
  loadPolicyFile,
  type PermissionReport,
  type Policy,
  permissionReport,
} from '@tourniquet/policy'
import { decisionSchema, requestSchema } from '../approvals/records.js'
import { besideLedger, openTrails } from '../approvals/store.js'
import { claimsOf } from '../engine/claims.js'
import { openSession, type Session } from '../engine/session.js'
import type { RunnerConfig } from '../env.js'
import { isSettingsError } from '../errors.js'
import { EXIT } from '../exit.js'
import { withAdvice } from '../failures.js'
import type { Ledger } from '../ledger/ledger.js'

export type CheckStatus = 'ok' | 'missing' | 'cannot tell' | 'note'

export interface CheckLine {
  status: CheckStatus
  check: string
  detail: string
  /** What to do about it. */
  fix?: string | undefined
}

export interface DoctorOptions {
  config: RunnerConfig
  out: Writable
  err: Writable
  /** Inject a client (tests); otherwise one is built from the configuration. */
  client?: GraphClient
  /** Inject the granted roles (tests); otherwise read from a fresh token's `roles` claim. */
  grantedRoles?: () => Promise<string[]>
  ledger?: Ledger
}

/** The `roles` claim of an access token: the app roles granted. The token itself is never kept or shown. */
export function rolesOf(token: string): string[] {
  const roles = claimsOf(token).roles
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : []
}

async function tokenRoles(config: RunnerConfig, credential: Credential): Promise<string[]> {
  const tokens = createTokenProvider({
    tenantId: config.tenantId,
    clientId: config.clientId,
    credential,
    cloud: config.cloud,
    ...(config.authorityHost === undefined ? {} : { authorityHost: config.authorityHost }),
  })
  try {
    return rolesOf((await tokens.getToken({ forceRefresh: true })).token)
  } finally {
    await tokens.close()
  }
}

/**
 * The application permissions Graph also accepts for what each least-privileged one is needed
 * for: the "Higher privileged permissions" column of each operation's permissions table, as
 * packages/mock-graph/CONTRACT.md records them with their pages. A permission with none listed
 * ("Not available") has no stand-in. A stand-in is granted, but more than the job needs.
 */
export const HIGHER_PRIVILEGED: Readonly<Record<string, readonly string[]>> = {
  // riskdetection-list, riskyuser-list/get/list-history, riskyuser-confirmcompromised/dismiss/
  // confirmsafe, user-revokesigninsessions, security identityAccounts list/get/invokeAction: none.
  // user-get (api/user-get.md): the directory reads of risky users and excluded UPNs.
  'User.Read.All': ['User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  // user-update, as user-get.md's "Permissions for specific scenarios" names for accountEnabled.
  'User.EnableDisableAccount.All': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  // The same, for passwordProfile.
  'User-PasswordProfile.ReadWrite.All': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  // group-list-transitivemembers (api/group-list-transitivemembers.md).
  'GroupMember.ReadBasic.All': [
    'GroupMember.Read.All',
    'Group.ReadBasic.All',
    'Group.Read.All',
    'Directory.Read.All',
    'GroupMember.ReadWrite.All',
    'Group.ReadWrite.All',
  ],
}

/** The granted role that stands for `permission`: itself, else a documented higher one, else none. */
function grantedAs(permission: string, granted: ReadonlySet<string>): string | undefined {
  if (granted.has(permission)) return permission
  return (HIGHER_PRIVILEGED[permission] ?? []).find((alt) => granted.has(alt))
}

/** What the token grants against what the policy needs (PermissionReport), one line per difference. */
export function permissionLines(report: PermissionReport, roles: readonly string[]): CheckLine[] {
  const granted = new Set(roles)
  const lines: CheckLine[] = []
  const standIns = new Set<string>()
  for (const p of report.permissions) {
    const as = grantedAs(p, granted)
    if (as === p) continue
    const needed = `needed to ${(report.reasons[p] ?? []).join('; ')}`
    if (as === undefined) {
      lines.push({
        status: 'missing',
        check: 'permission',
        detail: `${p}, ${needed}`,
        fix: 'grant it as an application permission with admin consent (pulumi up grants exactly what the policy needs)',
      })
      continue
    }
    standIns.add(as)
    lines.push({
      status: 'ok',
      check: 'permission',
      detail: `${p} via ${as}; ${p} is enough (${needed})`,
      fix: `least privilege: grant ${p} and remove ${as} if nothing else needs it`,
    })
  }
  if (!lines.some((l) => l.status === 'missing'))
    lines.push({
      status: 'ok',
      check: 'permissions',
      detail: `the app holds the ${report.permissions.length} Graph permissions the policy needs${standIns.size > 0 ? ' (some through a higher one)' : ''}`,
    })
  const extra = roles.filter((r) => !report.permissions.includes(r) && !standIns.has(r))
  if (extra.length > 0)
    lines.push({
      status: 'note',
      check: 'permissions',
      detail: `granted but not needed by this policy: ${extra.join(', ')}`,
      fix: 'remove them: least privilege',
    })
  return lines
}

function cloudLines(policy: Policy, config: RunnerConfig): CheckLine[] {
  const lines: CheckLine[] = []
  for (const need of apiNeeds(policy)) {
    if (apiAvailable(need.api, config.cloud)) continue
    lines.push({
      status: need.otherRoute ? 'note' : 'missing',
      check: 'cloud',
      detail: `${API_NAMES[need.api]} is not offered in the '${config.cloud}' cloud; needed for ${need.why}`,
      fix: need.otherRoute
        ? 'those steps are skipped with this reason; the other users are still acted on'
        : 'the policy cannot run in this cloud as written',
    })
  }
  return lines
}

/** A check that cannot be made now, with the reason (not a failure). */
class CannotTell extends Error {}

interface Probe {
  check: string
  /** The permission the read needs (least privileged, as the docs list it). */
  permission: string
  /** Why a 403 with the permission granted would happen. */
  otherwise: string
  read: () => Promise<string>
}

async function runProbe(probe: Probe, roles: ReadonlySet<string>): Promise<CheckLine> {
  const held = grantedAs(probe.permission, roles)
  try {
    return { status: 'ok', check: probe.check, detail: await probe.read() }
  } catch (e) {
    if (e instanceof CannotTell) return { status: 'cannot tell', check: probe.check, detail: e.message }
    // Graph's own code and words, not our wrapper's advice (which assumes a missing permission).
    const graph = isGraphError(e)
      ? `Graph answered ${e.status}${e.graphCode ? ` ${e.graphCode}` : ''}${e.graphMessage ? `: ${e.graphMessage}` : ''}`
      : (e as Error).message
    if (isGraphError(e) && e.status === 403) {
      return held !== undefined
        ? {
            status: 'missing',
            check: probe.check,
            detail: `Graph refused the read although the app holds ${held === probe.permission ? held : `${probe.permission} (via ${held})`} (${graph})`,
            fix: probe.otherwise,
          }
        : {
            status: 'missing',
            check: probe.check,
            detail: `the app lacks ${probe.permission} (${graph})`,
            fix: `grant ${probe.permission}`,
          }
    }
    return { status: 'cannot tell', check: probe.check, detail: `the read failed: ${graph}` }
  }
}

/** Identity Protection's two reads (one budget token each) and the directory read of a risky user they found. */
function riskProbes(client: GraphClient): Probe[] {
  let someone: string | undefined
  const p2 = 'Identity Protection needs a Microsoft Entra ID P2 licence in the tenant'
  return [
    {
      check: 'identity protection',
      permission: 'IdentityRiskyUser.Read.All',
      otherwise: p2,
      read: async () => {
        for await (const u of client.riskyUsers.list({ select: ['id'] })) {
          someone = u.id
          break
        }
        return 'riskyUsers answered'
      },
    },
    {
      check: 'risk detections',
      permission: 'IdentityRiskEvent.Read.All',
      otherwise: p2,
      read: async () => {
        const since = new Date(Date.now() - 3_600_000)
        for await (const _ of client.riskDetections.list({ since, select: ['id'] })) break
        return 'riskDetections answered'
      },
    },
    {
      check: 'directory',
      permission: 'User.Read.All',
      otherwise: 'a directory read was refused: check for a Conditional Access or app restriction',
      read: async () => {
        if (someone === undefined) throw new CannotTell('no risky user to read back right now')
        await client.users.get(someone, { select: ['id'] })
        return 'users answered'
      },
    },
  ]
}

/** The reads a run makes, one page each. */
function probesFor(policy: Policy, config: RunnerConfig, client: GraphClient): Probe[] {
  const probes = apiAvailable('identityProtection', config.cloud) ? riskProbes(client) : []
  for (const group of policy.exclude.groups)
    probes.push({
      check: 'exclusion group',
      permission: 'GroupMember.ReadBasic.All',
      otherwise: 'the group may be a role-assignable or restricted group the app cannot read',
      read: async () => {
        for await (const _ of client.groups.transitiveMembers(group)) break
        return `members of ${group} answered`
      },
    })
  // A run resolves each excluded UPN to its object id and refuses to act when one does not resolve.
  for (const upn of policy.exclude.users.filter((u) => u.includes('@')))
    probes.push({
      check: 'excluded user',
      permission: 'User.Read.All',
      otherwise:
        'the directory does not know this exclude.users UPN (renamed or deleted?): runs are refused until it resolves',
      read: async () => {
        const user = await client.users.get(upn, { select: ['id'] })
        return `${upn} is ${user.id}`
      },
    })
  const needsDefender = apiNeeds(policy).some((n) => n.api === 'defenderForIdentity')
  if (needsDefender && apiAvailable('defenderForIdentity', config.cloud))
    probes.push({
      check: 'defender for identity',
      permission: 'SecurityIdentitiesAccount.Read.All',
      otherwise:
        'Defender for Identity may not be set up in this tenant (its sensors report the on-premises accounts)',
      read: async () => {
        // The null SID (S-1-0-0) belongs to no account: an empty answer proves the API works.
        for await (const _ of client.identityAccounts.list({ onPremisesSecurityIdentifier: 'S-1-0-0' })) break
        return 'identityAccounts answered'
      },
    })
  return probes
}

function roleLines(report: PermissionReport, policy: Policy): CheckLine[] {
  const lines: CheckLine[] = report.directoryRoles.map((role) => ({
    status: 'cannot tell' as const,
    check: 'directory role',
    detail: `app-only password resets need the ${role} role (higher for admin targets); reading role assignments needs RoleManagement.Read.Directory, which this policy does not grant`,
    fix: `check in the Entra admin center: Roles and administrators > ${role} > the app's service principal`,
  }))
  if (apiNeeds(policy).some((n) => n.api === 'defenderForIdentity'))
    lines.push({
      status: 'cannot tell',
      check: 'defender actions',
      detail:
        'invokeAction may also need a Defender XDR role with Response (manage) on identities (not confirmed in the Graph docs); only an action would show it',
      fix: 'check Defender XDR > Permissions > Roles for the app',
    })
  return lines
}

async function ledgerLine(session: Session): Promise<CheckLine> {
  try {
    const ledger = await session.ledger()
    await ledger.load()
    // Looked at, never taken: a run starting while doctor held it would skip.
    const lock = await ledger.lockState?.()
    if (lock === undefined)
      return {
        status: 'ok',
        check: 'ledger',
        detail: `${ledger.location}: read (its lock cannot be looked at)`,
      }
    return {
      status: 'ok',
      check: 'ledger',
      detail: `${ledger.location}: read; ${lock.held ? `a run holds its lock now (${lock.detail})` : `not locked now (${lock.detail})`}`,
    }
  } catch (e) {
    return {
      status: 'missing',
      check: 'ledger',
      detail: `the ledger cannot be used: ${(e as Error).message}`,
      fix: 'check TOURNIQUET_LEDGER and, for a blob, the identity’s Storage Blob Data Contributor role on the container',
    }
  }
}

/** The evidence state beside the ledger (incremental collection): read, never written. */
async function evidenceLine(session: Session): Promise<CheckLine | undefined> {
  const { config } = session
  if (config.collection.mode !== 'incremental') return undefined
  const shown = config.collection.location ?? besideLedger(config.ledger, '.evidence.json')
  try {
    const loaded = await (await session.evidence()).load()
    if (loaded.unusable !== undefined)
      return {
        status: 'note',
        check: 'evidence state',
        detail: `${shown} is reachable but cannot be used (${loaded.unusable})`,
        fix: 'nothing to do: the next run collects in full and replaces it',
      }
    return {
      status: 'ok',
      check: 'evidence state',
      detail: `${shown} is reachable; ${loaded.state === undefined ? 'none saved yet (the first run saves it)' : 'a state is saved'}; writing it is not tried (doctor writes nothing)`,
    }
  } catch (e) {
    return {
      status: 'missing',
      check: 'evidence state',
      detail: `${shown} cannot be read: ${(e as Error).message}`,
      fix: 'for a blob, the identity needs Storage Blob Data Contributor on the ledger container; for a file, read and write on its directory',
    }
  }
}

/** Whether the policy waits for people at all: only then is the decisions trail read. */
const needsApprovals = (policy: Policy): boolean =>
  policy.approvals.require.length > 0 || policy.rules.some((r) => (r.requireApproval?.length ?? 0) > 0)

/** The decisions trail, read as a run reads it (only when the policy has approvals). */
async function decisionsLine(session: Session, policy: Policy): Promise<CheckLine | undefined> {
  if (!needsApprovals(policy)) return undefined
  try {
    const trails = await openTrails(session.config, session.blobs, {
      request: requestSchema,
      decision: decisionSchema,
    })
    const read = await trails.decisions.load()
    const skipped =
      read.warnings.length === 0 ? '' : `; ${read.warnings.length} warning(s): ${read.warnings[0]}`
    return {
      status: read.warnings.length === 0 ? 'ok' : 'note',
      check: 'decisions trail',
      detail: `${trails.decisions.location} is readable (${read.records.length} decision(s))${skipped}`,
    }
  } catch (e) {
    if (isSettingsError(e))
      return {
        status: 'missing',
        check: 'decisions trail',
        detail: e.message,
        fix: 'set TOURNIQUET_DECISIONS to a blob in the decisions container (pulumi up sets it)',
      }
    return {
      status: 'missing',
      check: 'decisions trail',
      detail: `the decisions trail cannot be read: ${(e as Error).message}`,
      fix: 'for a blob, the identity needs Storage Blob Data Reader on the decisions container',
    }
  }
}

/**
 * For a run that Graph refused for a missing permission: the doctor's permission lines, so the job's
 * logs say what to grant without a second tool. Best effort: a failure here changes nothing.
 */
export async function explainPermissions(
  config: RunnerConfig,
  credential: Credential,
  policy: Policy,
  err: Writable,
): Promise<void> {
  try {
    const roles = await tokenRoles(config, credential)
    err.write(
      'tourniquet: Graph refused a call for a permission; what the app holds against what the policy needs:\n',
    )
    for (const line of permissionLines(permissionReport(policy), roles)) print(err, line)
    err.write('tourniquet: run `tourniquet doctor` for every check\n')
  } catch {
    // The run's own error line already says what failed.
  }
}

function print(out: Writable, line: CheckLine): void {
  out.write(`${line.status.padEnd(12)}${line.check.padEnd(23)}${line.detail}\n`)
  if (line.fix) out.write(`${''.padEnd(35)}-> ${line.fix}\n`)
}

/** The ledger, the evidence state and the decisions trail: each read, none written or leased. */
async function storageLines(session: Session, policy: Policy): Promise<CheckLine[]> {
  const lines = [await ledgerLine(session), await evidenceLine(session), await decisionsLine(session, policy)]
  return lines.filter((l): l is CheckLine => l !== undefined)
}

/** Runs every check and prints it; returns the exit code. */
export async function runDoctor(options: DoctorOptions): Promise<number> {
  const { config, out, err } = options
  await using session = openSession(config, { client: options.client, ledger: options.ledger })
  let policy: Policy
  let credential: Credential
  try {
    policy = await loadPolicyFile(config.policyPath)
    credential = await session.credential()
  } catch (e) {
    if (!isPolicyError(e) && !isSettingsError(e)) throw e
    err.write(
      `tourniquet doctor: ${isPolicyError(e) ? 'the policy cannot be used' : 'configuration error'}:\n${e.message}\n`,
    )
    return EXIT.configuration
  }
  out.write(
    `tourniquet doctor: tenant ${config.tenantId}, cloud ${config.cloud}, policy ${config.policyPath}\n`,
  )
  let roles: string[]
  try {
    roles = await (options.grantedRoles ?? (() => tokenRoles(config, credential)))()
  } catch (e) {
    if (!isAuthError(e) && !isConfigError(e) && !isTourniquetError(e)) throw e
    print(out, { status: 'missing', check: 'sign-in', detail: withAdvice(e) })
    return EXIT.configuration
  }
  const client = await session.graph()
  const report = permissionReport(policy)
  const lines: CheckLine[] = [
    {
      status: 'ok',
      check: 'sign-in',
      detail: `signed in with ${client.credentialDescription}; the token carries ${roles.length} app roles`,
    },
    ...permissionLines(report, roles),
    ...cloudLines(policy, config),
  ]
  for (const line of lines) print(out, line)
  const granted = new Set(roles)
  for (const probe of probesFor(policy, config, client)) {
    const line = await runProbe(probe, granted)
    lines.push(line)
    print(out, line)
  }
  for (const line of [...roleLines(report, policy), ...(await storageLines(session, policy))]) {
    lines.push(line)
    print(out, line)
  }
  const missing = lines.filter((l) => l.status === 'missing').length
  out.write(
    missing === 0
      ? 'the policy can run as written\n'
      : `${missing} thing(s) missing: see the lines marked missing\n`,
  )
  return missing === 0 ? EXIT.ok : EXIT.stepsFailed
}
