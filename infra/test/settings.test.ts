import { describe, expect, it } from 'vitest'
import { parseSettings, SettingsError, secretEndDate } from '../src/settings.js'

const base = { location: 'westeurope', image: 'myregistry.azurecr.io/tourniquet-runner:1.0.0' }

function problems(raw: Record<string, unknown>): Array<{ key: string; message: string }> {
  try {
    parseSettings(raw)
  } catch (e) {
    if (e instanceof SettingsError) return e.problems
    throw e
  }
  throw new Error('expected a settings error')
}

describe('stack settings', () => {
  it('defaults: dry run, federated (no secret), every 10 minutes, global cloud', () => {
    expect(parseSettings(base)).toMatchObject({
      mode: 'plan',
      authMode: 'federated',
      schedule: '*/10 * * * *',
      cloud: 'global',
      replicaTimeoutSeconds: 1800,
      retryLimit: 1,
      cpu: 0.5,
      memory: '1Gi',
    })
  })
  it('reads numbers given as strings (pulumi config set stores strings)', () => {
    expect(parseSettings({ ...base, secretLifetimeDays: '90', cpu: '1' })).toMatchObject({
      secretLifetimeDays: 90,
      cpu: 1,
    })
  })
  it.each([
    ['schedule', { schedule: 'every 10 minutes' }, /five-field cron/],
    ['schedule', { schedule: '*/10 * * *' }, /five-field cron/],
    ['image', { image: 'tourniquet-runner' }, /image reference with a tag or digest/],
    ['image', { image: 'myregistry.azurecr.io/tourniquet-runner' }, /tag or digest/],
    ['location', { location: 'West Europe' }, /Azure region name/],
    ['cloud', { cloud: 'mars' }, /global, usgov, usgovdod, china/],
    ['authMode', { authMode: 'password' }, /secret .* or federated/],
    ['secretLifetimeDays', { secretLifetimeDays: '400' }, /at most 365/],
    ['secretRotation', { secretRotation: 'today' }, /YYYY-MM-DD/],
    ['cpu', { cpu: '3' }, /0\.25 to 2/],
  ])('a bad %s is named with what is expected', (key, raw, message) => {
    const [p] = problems({ ...base, ...raw })
    expect(p?.key).toBe(key)
    expect(p?.message).toMatch(message)
  })
  it('the error message lists keys as tourniquet:<key>', () => {
    expect(() => parseSettings({ location: 'westeurope' })).toThrow(/tourniquet:image: /)
  })
  it('the secret end date follows the rotation date and lifetime, deterministically', () => {
    expect(
      secretEndDate(parseSettings({ ...base, secretRotation: '2026-01-01', secretLifetimeDays: '30' })),
    ).toBe('2026-01-31T00:00:00.000Z')
  })
})
