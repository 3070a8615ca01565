import { describe, expect, it } from 'vitest'
import { loadConfig, SettingsError } from '../src/index.js'

const BASE = {
  AZURE_TENANT_ID: '72f988bf-0000-4000-a000-000000000001',
  AZURE_CLIENT_ID: 'a11c0000-0000-4000-a000-00000000c11e',
  AZURE_CLIENT_SECRET: 'the-secret-value-for-tests',
}

function problems(env: Record<string, string | undefined>): Array<{ variable: string; message: string }> {
  try {
    loadConfig({}, env)
  } catch (e) {
    if (e instanceof SettingsError) return e.problems
    throw e
  }
  throw new Error('expected a configuration error')
}

describe('configuration from the environment', () => {
  it('defaults to a dry run, the global cloud and a local ledger', () => {
    const c = loadConfig({}, BASE)
    expect(c).toMatchObject({
      mode: 'plan',
      cloud: 'global',
      ledger: 'tourniquet-ledger.jsonl',
      policyPath: 'policy.yaml',
      concurrency: 4,
      maxRuntimeMs: 1_200_000,
    })
    expect(c.credential).toEqual({ kind: 'secret', secret: BASE.AZURE_CLIENT_SECRET })
  })
  it('flags override the environment', () => {
    const c = loadConfig(
      { mode: 'apply', policy: 'p.yaml', ledger: 'l.jsonl' },
      { ...BASE, TOURNIQUET_MODE: 'plan', TOURNIQUET_POLICY: 'x.yaml' },
    )
    expect(c).toMatchObject({ mode: 'apply', policyPath: 'p.yaml', ledger: 'l.jsonl' })
  })
  it('names every missing or bad variable at once', () => {
    const p = problems({ TOURNIQUET_MODE: 'aply', TOURNIQUET_CLOUD: 'mars' })
    expect(p.map((x) => x.variable)).toEqual([
      'AZURE_TENANT_ID',
      'AZURE_CLIENT_ID',
      'AZURE_CLIENT_SECRET',
      'TOURNIQUET_CLOUD',
      'TOURNIQUET_MODE',
    ])
    expect(p.find((x) => x.variable === 'TOURNIQUET_MODE')?.message).toMatch(
      /'aply' is not a mode; expected plan .* or apply/,
    )
    expect(p.find((x) => x.variable === 'AZURE_CLIENT_SECRET')?.message).toMatch(
      /TOURNIQUET_AUTH=managed-identity/,
    )
  })
  it('accepts exactly one credential', () => {
    expect(problems({ ...BASE, AZURE_CLIENT_CERTIFICATE_PATH: '/c.pem' })[0]).toMatchObject({
      variable: 'AZURE_CLIENT_SECRET',
      message: expect.stringMatching(/both set/),
    })
    const cert = loadConfig(
      {},
      { ...BASE, AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: '/c.pem' },
    )
    expect(cert.credential).toEqual({ kind: 'certificate', path: '/c.pem' })
  })
  it('managed identity: AZURE_CLIENT_ID names the user-assigned identity, no secret allowed', () => {
    const c = loadConfig(
      {},
      { AZURE_TENANT_ID: BASE.AZURE_TENANT_ID, AZURE_CLIENT_ID: 'uami', TOURNIQUET_AUTH: 'managed-identity' },
    )
    expect(c.credential).toEqual({ kind: 'managedIdentity', clientId: 'uami' })
    expect(problems({ ...BASE, TOURNIQUET_AUTH: 'managed-identity' })[0]?.variable).toBe('TOURNIQUET_AUTH')
  })
  it('federated: the app trusts the job identity; no secret allowed', () => {
    const c = loadConfig(
      {},
      {
        AZURE_TENANT_ID: BASE.AZURE_TENANT_ID,
        AZURE_CLIENT_ID: BASE.AZURE_CLIENT_ID,
        TOURNIQUET_AUTH: 'federated',
        TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID: 'uami',
      },
    )
    expect(c.credential).toEqual({ kind: 'federated', managedIdentityClientId: 'uami' })
    expect(c.managedIdentityClientId).toBe('uami')
    expect(problems({ ...BASE, TOURNIQUET_AUTH: 'federated' })[0]?.variable).toBe('TOURNIQUET_AUTH')
    expect(problems({ ...BASE, TOURNIQUET_AUTH: 'kerberos' })[0]?.message).toMatch(
      /expected managed-identity or federated/,
    )
  })
  it('validates host overrides: https, or http on loopback only', () => {
    expect(loadConfig({}, { ...BASE, TOURNIQUET_GRAPH_URL: 'http://127.0.0.1:8080' }).graphRoot).toBe(
      'http://127.0.0.1:8080',
    )
    const p = problems({
      ...BASE,
      AZURE_AUTHORITY_HOST: 'http://login.example.com',
      TOURNIQUET_GRAPH_URL: 'https://graph.microsoft.com/v1.0',
    })
    expect(p.map((x) => x.variable)).toEqual(['AZURE_AUTHORITY_HOST', 'TOURNIQUET_GRAPH_URL'])
    expect(p[0]?.message).toMatch(/must use https/)
  })
  it('validates the ledger URL, runtime, concurrency and budgets', () => {
    const p = problems({
      ...BASE,
      TOURNIQUET_LEDGER: 'https://acct.blob.core.windows.net',
      TOURNIQUET_MAX_RUNTIME: '20m',
      TOURNIQUET_CONCURRENCY: '0',
      TOURNIQUET_IDENTITY_PROTECTION_RPS: '-1',
      TOURNIQUET_DIRECTORY_WRITE_RPS: 'fast',
      TOURNIQUET_DEFENDER_RPS: '0',
    })
    expect(p.map((x) => x.variable)).toEqual([
      'TOURNIQUET_LEDGER',
      'TOURNIQUET_MAX_RUNTIME',
      'TOURNIQUET_CONCURRENCY',
      'TOURNIQUET_IDENTITY_PROTECTION_RPS',
      'TOURNIQUET_DIRECTORY_WRITE_RPS',
      'TOURNIQUET_DEFENDER_RPS',
    ])
    expect(
      loadConfig(
        {},
        { ...BASE, TOURNIQUET_LEDGER: 'https://acct.blob.core.windows.net/tourniquet/ledger.jsonl' },
      ).ledger,
    ).toMatch(/^https:/)
  })
  it('never quotes a client secret pasted into the tenant, client id or auth settings', () => {
    // Made up, in the shape Entra issues (three characters, a digit, Q~, 34 more).
    const pasted = 'xY78Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567'
    const p = problems({
      AZURE_TENANT_ID: pasted,
      AZURE_CLIENT_ID: pasted,
      AZURE_CLIENT_CERTIFICATE_PATH: '/certs/app.pem',
    })
    expect(p.map((x) => x.variable)).toEqual(['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'])
    expect(p[1]?.message).toMatch(/is not an application \(client\) id \(GUID\)/)
    expect(JSON.stringify(p)).not.toContain('aBcDeFgHiJkLmNoPqRsTuVwXyZ')
    const auth = problems({ ...BASE, TOURNIQUET_AUTH: 'hunter2-not-a-mode' })
    expect(JSON.stringify(auth)).not.toContain('hunter2-not-a-mode')
  })
  it('quotes a refused ledger URL without its SAS token', () => {
    const p = problems({
      ...BASE,
      TOURNIQUET_LEDGER: 'https://acct.blob.core.windows.net/?sv=2024-11-04&sp=racw&sig=U2VjcmV0U2lnbmF0dXJl',
    })
    expect(p[0]?.variable).toBe('TOURNIQUET_LEDGER')
    expect(p[0]?.message).toMatch(/^'https:\/\/acct\.blob\.core\.windows\.net\/' is not a blob URL/)
    expect(JSON.stringify(p)).not.toMatch(/U2VjcmV0U2lnbmF0dXJl|sp=racw/)
  })
  it('accepts plain http for a ledger only on a loopback host, compared exactly', () => {
    expect(
      loadConfig({}, { ...BASE, TOURNIQUET_LEDGER: 'http://127.0.0.1:10000/acct/c/l.jsonl' }).ledger,
    ).toMatch(/^http:/)
    expect(
      loadConfig({}, { ...BASE, TOURNIQUET_LEDGER: 'http://localhost:10000/acct/c/l.jsonl' }).ledger,
    ).toMatch(/^http:/)
    for (const host of ['127.evil.example', 'localhost.evil.example', '127.0.0.1.nip.io'])
      expect(problems({ ...BASE, TOURNIQUET_LEDGER: `http://${host}/acct/c/l.jsonl` })[0]?.variable).toBe(
        'TOURNIQUET_LEDGER',
      )
  })
  it('never puts the secret in a message', () => {
    const p = problems({ ...BASE, TOURNIQUET_MODE: 'x' })
    expect(JSON.stringify(p)).not.toContain(BASE.AZURE_CLIENT_SECRET)
  })
})
