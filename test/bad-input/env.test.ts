import { loadConfig, SettingsError } from '@tourniquet/runner'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const VARS = [
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'TOURNIQUET_AUTH',
  'TOURNIQUET_CLOUD',
  'AZURE_AUTHORITY_HOST',
  'TOURNIQUET_GRAPH_URL',
  'TOURNIQUET_MODE',
  'TOURNIQUET_LEDGER',
  'TOURNIQUET_MAX_RUNTIME',
  'TOURNIQUET_CONCURRENCY',
  'TOURNIQUET_IDENTITY_PROTECTION_RPS',
]

describe('bad environment values: a SettingsError naming the variables, never a crash', () => {
  it('any combination of values', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        '',
        ' ',
        'apply',
        'managed-identity',
        'federated',
        'https://x',
        'http://127.0.0.1:1',
        '72f988bf-0000-4000-a000-000000000001',
        'PT5M',
        '0',
        '-1',
        'NaN',
      ),
    )
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...VARS), value), (env) => {
        try {
          loadConfig({}, env)
        } catch (e) {
          expect(e, `not a SettingsError: ${(e as Error)?.stack}`).toBeInstanceOf(SettingsError)
          for (const p of (e as SettingsError).problems) {
            expect(VARS).toContain(p.variable)
            expect(p.message.length).toBeGreaterThan(0)
          }
          // A real secret (long, with digits) never appears in the message; short words may, by chance.
          const secret = env.AZURE_CLIENT_SECRET
          if (secret && secret.length >= 12 && /\d/.test(secret))
            expect((e as Error).message).not.toContain(secret)
        }
      }),
      { numRuns: 1_000 },
    )
  })
})
