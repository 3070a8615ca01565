/** The action vocabulary: canonical names, accepted aliases, and what each may cost in permissions. */

export const ACTIONS = [
  'confirmCompromised',
  'dismissRisk',
  'confirmSafe',
  'revokeSessions',
  'requireSignInAgain',
  'disable',
  'enable',
  'forcePasswordReset',
] as const
export type Action = (typeof ACTIONS)[number]

/** Defender for Identity's names, accepted in policies and mapped to ours. */
export const ACTION_ALIASES: Readonly<Record<string, Action>> = {
  markUserAsCompromised: 'confirmCompromised',
  revokeAllSessions: 'revokeSessions',
  requireUserToSignInAgain: 'requireSignInAgain',
}

export const ACTION_NAMES: readonly string[] = [...ACTIONS, ...Object.keys(ACTION_ALIASES)]

export function canonicalAction(name: string): Action | undefined {
  if ((ACTIONS as readonly string[]).includes(name)) return name as Action
  return ACTION_ALIASES[name]
}

/** Actions that change a user's access; limits and the ledger care most about these. */
export const DESTRUCTIVE: ReadonlySet<Action> = new Set([
  'confirmCompromised',
  'revokeSessions',
  'requireSignInAgain',
  'disable',
  'forcePasswordReset',
])
