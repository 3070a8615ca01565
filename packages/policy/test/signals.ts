/** Signals for the evaluator tests: one high-risk cloud member with one fresh detection, changed as a test needs. */
import { evaluate, parsePolicy, type Signals, type UserSignals } from '../src/index.js'

export const NOW = new Date('2026-01-15T12:00:00Z')
export const ago = (h: number): string => new Date(NOW.getTime() - h * 3_600_000).toISOString()

export function user(over: Partial<UserSignals> & { id?: string } = {}): UserSignals {
  const id = over.id ?? over.userId ?? 'u1'
  return {
    userId: id,
    userPrincipalName: `${id}@contoso.example`,
    risk: { level: 'high', state: 'atRisk' },
    detections: [
      {
        id: `${id}-d1`,
        riskEventType: 'leakedCredentials',
        source: 'IdentityProtection',
        detectedDateTime: ago(1),
      },
    ],
    directory: { accountEnabled: true, onPremisesSyncEnabled: false, userType: 'Member' },
    ...over,
  }
}

/** A policy of the given rules (YAML list items), with a 24-hour lookback and `extra` top-level keys. */
export const policy = (rules: string, extra = '') =>
  parsePolicy(`version: 1\nlookback: PT24H\n${extra}rules:\n${rules}`)
export const rule = (when: string, then: string, name = 'r') =>
  `  - name: ${name}\n    when: ${when}\n    then: ${then}\n`
export const plan = (p: ReturnType<typeof policy>, users: UserSignals[], signals: Partial<Signals> = {}) =>
  evaluate(p, { users, ...signals }, NOW)
/** The plan's steps as `user:action`. */
export const actions = (p: ReturnType<typeof plan>) => p.steps.map((s) => `${s.userId}:${s.action}`)
