/**
 * Collects the signals the policy decides on, with the fewest requests Graph's budgets allow:
 * risky users (paged at 500), detections in the lookback (paged at 500), directory facts through
 * $batch (20 users a request), exclusion groups, and Defender for Identity accounts for synced users
 * only when the policy can act through Defender for Identity.
 */
import { type GraphClient, RISK_DETECTION_SELECT, RISKY_USER_SELECT, USER_SELECT } from '@tourniquet/core'
import {
  DEFAULT_RISK_STATES,
  type DetectionSignal,
  type Policy,
  permissionReport,
  type Signals,
  type UserSignals,
} from '@tourniquet/policy'

export interface CollectNotes {
  riskyUsers: number
  detections: number
  warnings: string[]
}

export async function collectSignals(
  client: GraphClient,
  policy: Policy,
  now: Date,
  signal: AbortSignal | undefined,
): Promise<{ signals: Signals; notes: CollectNotes }> {
  const notes: CollectNotes = { riskyUsers: 0, detections: 0, warnings: [] }
  const levels = policy.rules.every((r) => r.when.riskLevel)
    ? [...new Set(policy.rules.flatMap((r) => r.when.riskLevel ?? []))]
    : undefined
  const states = [...new Set(policy.rules.flatMap((r) => r.when.riskState ?? DEFAULT_RISK_STATES))]

  const risky = new Map<string, UserSignals>()
  for await (const u of client.riskyUsers.list(
    { riskLevels: levels, riskStates: states, select: RISKY_USER_SELECT },
    { signal },
  )) {
    if (u.isDeleted) continue
    risky.set(u.id, {
      userId: u.id,
      userPrincipalName: u.userPrincipalName ?? u.id,
      risk: { level: u.riskLevel, state: u.riskState, detail: u.riskDetail },
      detections: [],
    })
  }
  notes.riskyUsers = risky.size

  const since = new Date(now.getTime() - policy.lookback)
  // Detections (Identity Protection budget) and directory facts ($batch, directory budget) do not
  // compete for a budget: read them side by side.
  const readDetections = async (): Promise<void> => {
    for await (const d of client.riskDetections.list({ since, select: RISK_DETECTION_SELECT }, { signal })) {
      notes.detections++
      const user = risky.get(d.userId)
      if (!user) continue
      const detection: DetectionSignal = {
        id: d.id,
        riskEventType: d.riskEventType,
        riskLevel: d.riskLevel,
        source: d.source,
        detectedDateTime: d.detectedDateTime,
        detectionTimingType: d.detectionTimingType,
      }
      user.detections.push(detection)
    }
  }

  const ids = [...risky.keys()]
  const sids = new Map<string, string>()
  const readFacts = async (): Promise<void> => {
    if (ids.length === 0) return
    // Handled as each $batch round answers: 10,000 users' facts are never all in memory at once.
    for await (const [id, fact] of client.users.getEach(ids, { select: USER_SELECT, signal })) {
      const user = risky.get(id)
      if (!user) continue
      if (fact instanceof Error) {
        notes.warnings.push(
          `directory facts of ${user.userPrincipalName} could not be read (${fact.message})`,
        )
        continue
      }
      user.directory = {
        accountEnabled: fact.accountEnabled ?? true,
        onPremisesSyncEnabled: fact.onPremisesSyncEnabled === true,
        userType: fact.userType ?? 'Member',
      }
      if (fact.onPremisesSyncEnabled === true && fact.onPremisesSecurityIdentifier)
        sids.set(id, fact.onPremisesSecurityIdentifier)
    }
  }
  await Promise.all([readDetections(), readFacts()])

  const groupMembers: Record<string, string[]> = {}
  for (const groupId of policy.exclude.groups) {
    try {
      const members: string[] = []
      for await (const m of client.groups.transitiveMembers(groupId, { signal })) members.push(m.id)
      groupMembers[groupId] = members
    } catch (e) {
      // Left out on purpose: the evaluator refuses a run whose exclusions are unknown.
      notes.warnings.push(`members of exclusion group ${groupId} could not be read (${(e as Error).message})`)
    }
  }

  if (permissionReport(policy).permissions.includes('SecurityIdentitiesAccount.Read.All')) {
    // One lookup per synced user, a few at a time (no Identity Protection budget involved).
    const queue = [...sids]
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [id, sid] = next
        const user = risky.get(id) as UserSignals
        try {
          for await (const identity of client.identityAccounts.list(
            { onPremisesSecurityIdentifier: sid },
            { signal },
          )) {
            user.defender = {
              identityAccountId: identity.id,
              accounts: identity.accounts.map((a) => ({
                provider: a.provider ?? 'unknown',
                identifier: a.identifier,
                actions: a.actions,
              })),
            }
            break
          }
        } catch (e) {
          notes.warnings.push(
            `Defender for Identity account of ${user.userPrincipalName} could not be read (${(e as Error).message})`,
          )
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
  }
  return { signals: { users: [...risky.values()], groupMembers }, notes }
}
