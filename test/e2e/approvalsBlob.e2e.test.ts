import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createLoopbackPki,
  DEFAULT_TENANT_ID,
  type LoopbackPki,
  READER_APP_ID,
  READER_APP_SECRET,
} from '@tourniquet/mock-graph'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Azurite, startAzurite } from '../support/azurite.js'
import { runCli, Tenant } from '../support/e2e.js'

// Approvals with both trails as blobs (Azurite): the job writes requests with its own identity; an
// approver runs the trail commands with no app credential, signed in as themselves through the
// Azure CLI. A fake `az` stands in for the CLI: it gets a Storage token from the mock identity
// platform for another identity (the reader app), as `az account get-access-token` would for a person.
const POLICY =
  'version: 1\nlookback: PT48H\napprovals: { require: [disable], timeout: PT4H }\nrules:\n  - name: high\n    when: { riskLevel: [high], userType: [member, guest] }\n    then: [revokeSessions, disable]\n'

describe('approvals on blob trails, decided by a signed-in person', () => {
  let t: Tenant
  let pki: LoopbackPki
  let azurite: Azurite
  let job: Record<string, string>
  let approver: Record<string, string>

  beforeAll(async () => {
    pki = await createLoopbackPki()
    t = await Tenant.start({ scenario: 'demo' }, pki)
    azurite = await startAzurite(pki, t.dir)
    await azurite.createContainer('tourniquet')
    await azurite.createContainer('decisions')
    const policy = join(t.dir, 'approvals.yaml')
    await writeFile(policy, POLICY)
    const where = {
      TOURNIQUET_POLICY: policy,
      TOURNIQUET_LEDGER: `${azurite.accountUrl}/tourniquet/ledger.jsonl`,
      TOURNIQUET_DECISIONS: `${azurite.accountUrl}/decisions/decisions.jsonl`,
    }
    job = t.env(where)
    const bin = join(t.dir, 'bin')
    await writeFile(
      join(t.dir, 'az.mjs'),
      `const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: ${JSON.stringify(READER_APP_ID)}, client_secret: ${JSON.stringify(READER_APP_SECRET)}, scope: 'https://storage.azure.com/.default' })
const res = await fetch(${JSON.stringify(`${t.server.url}/${DEFAULT_TENANT_ID}/oauth2/v2.0/token`)}, { method: 'POST', body })
const token = await res.json()
if (!process.argv.includes('https://storage.azure.com')) process.exit(3)
process.stdout.write(JSON.stringify({ accessToken: token.access_token, expires_on: Math.floor(Date.now() / 1000) + token.expires_in, tokenType: 'Bearer' }))
`,
    )
    await mkdir(bin)
    await writeFile(
      join(bin, 'az'),
      `#!/bin/sh\nexec "${process.execPath}" "${join(t.dir, 'az.mjs')}" "$@"\n`,
    )
    await chmod(join(bin, 'az'), 0o755)
    // No app credential and no tenant: what an approver's workstation has.
    approver = t.env({
      ...where,
      AZURE_CLIENT_ID: undefined,
      AZURE_CLIENT_SECRET: undefined,
      AZURE_TENANT_ID: undefined,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    })
  }, 90_000)
  afterAll(async () => {
    await azurite?.stop()
    await t?.stop()
  })

  it('the job asks; the person lists and approves with their own sign-in; the next run acts once', async () => {
    const first = await runCli(['run', '--apply'], job)
    expect(first.code).toBe(0)
    expect(first.steps.filter((s) => s.status === 'pendingApproval').length).toBeGreaterThan(0)

    const list = await runCli(['approvals'], approver)
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/megan\.bowen@contoso\.example/)

    const ok = await runCli(
      [
        'approve',
        '--run',
        String(first.summary?.runId),
        '--user',
        'megan.bowen@contoso.example',
        '--by',
        'alice',
      ],
      approver,
    )
    expect(ok.code).toBe(0)
    // Who decided is the signed-in identity of the token, with the declared name beside it.
    expect(ok.stdout).toMatch(
      new RegExp(
        `approved disable megan\\.bowen@contoso\\.example .* by ${READER_APP_ID} \\(declared alice\\)`,
      ),
    )

    const second = await runCli(['run', '--apply'], job)
    expect(second.code).toBe(0)
    expect(
      second.steps.find(
        (s) => s.userPrincipalName === 'megan.bowen@contoso.example' && s.action === 'disable',
      ),
    ).toMatchObject({ status: 'succeeded' })
    expect(t.mock.tenant.actions.filter((a) => a.kind === 'disable')).toHaveLength(1)
  })

  it('doctor reads the blob ledger, the evidence state and the decisions without creating or leasing anything', async () => {
    const env = { ...job, TOURNIQUET_LEDGER: `${azurite.accountUrl}/tourniquet/doctor-ledger.jsonl` }
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['doctor'], env)
      // The second look still finds no blob: the first created none (and took no lease).
      expect(r.stdout).toMatch(
        /^ok\s+ledger\s+.*doctor-ledger\.jsonl: read; not locked now \(the ledger blob does not exist yet/m,
      )
      expect(r.stdout).toMatch(
        /^ok\s+evidence state\s+.*doctor-ledger\.jsonl\.evidence\.json is reachable; none saved yet/m,
      )
      expect(r.stdout).toMatch(/^ok\s+decisions trail\s+.*decisions\/decisions\.jsonl is readable/m)
    }
  })

  it('a blob ledger without TOURNIQUET_DECISIONS is a configuration error naming it (exit 2)', async () => {
    const bare = { ...approver }
    delete bare.TOURNIQUET_DECISIONS
    const r = await runCli(['approvals'], bare)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/TOURNIQUET_DECISIONS: is not set, and the ledger is a blob/)
  })
})
