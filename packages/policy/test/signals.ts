/** Signals for the evaluator tests: one high-risk cloud member with one fresh detection, changed as a test needs. */
import type { UserSignals } from '../src/index.js'

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
