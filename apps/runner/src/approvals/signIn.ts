/**
 * How an approver reaches blob trails: signed in as a person, never as the remediation app (whose
 * credential holds the Graph remediation permissions and must not be on approvers' machines, and
 * whose identity has no write on the decisions container, decision 012). The person's token comes
 * from the Azure CLI's signed-in account (`az login`), so the storage account's logs and the
 * decision's `by` name them. File trails need no sign-in at all.
 */
import { execFile } from 'node:child_process'
import type { AccessToken, TokenCredential } from '@azure/core-auth'
import { registerSecret } from '@tourniquet/core'
import { z } from 'zod'

const STORAGE_RESOURCE = 'https://storage.azure.com'

/** `az account get-access-token --output json`: `expires_on` (epoch seconds) in CLI 2.54 and later, `expiresOn` (local time) before. */
const CLI_TOKEN = z.object({
  accessToken: z.string().min(1),
  expires_on: z.union([z.number(), z.string()]).optional(),
  expiresOn: z.string().optional(),
})

/** A sign-in that did not give a token, with what to do; never the CLI's output (it may hold a token). */
export class ApproverSignInError extends Error {
  readonly code = 'TQ_RUNNER_APPROVER_SIGN_IN'
  constructor(message: string) {
    super(message)
    this.name = 'ApproverSignInError'
  }
}

function expiresOnMs(t: z.output<typeof CLI_TOKEN>): number {
  const epoch = Number(t.expires_on)
  if (Number.isFinite(epoch) && epoch > 0) return epoch * 1000
  const parsed = t.expiresOn === undefined ? Number.NaN : Date.parse(t.expiresOn)
  // Unknown: assume a short life, so it is asked for again rather than used past its expiry.
  return Number.isFinite(parsed) ? parsed : Date.now() + 5 * 60_000
}

function runAz(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('az', args, { timeout: 60_000, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (!error) return resolve(stdout)
      const code = (error as NodeJS.ErrnoException).code
      reject(
        new ApproverSignInError(
          code === 'ENOENT'
            ? 'the Azure CLI (az) is not installed or not on PATH: install it and run `az login` as yourself to reach the blob trails'
            : 'the Azure CLI gave no Storage token: run `az login` as yourself (the approvers group needs Storage Blob Data Contributor on the decisions container)',
        ),
      )
    })
  })
}

/**
 * The signed-in Azure CLI account as a Storage credential. The token is asked for once and kept
 * until shortly before it expires; it is registered with the sanitizer so no error or log shows it.
 */
export function azureCliCredential(tenantId: string | undefined): TokenCredential {
  let cached: AccessToken | undefined
  return {
    async getToken(): Promise<AccessToken> {
      if (cached && cached.expiresOnTimestamp - Date.now() > 2 * 60_000) return cached
      const args = ['account', 'get-access-token', '--resource', STORAGE_RESOURCE, '--output', 'json']
      if (tenantId !== undefined) args.push('--tenant', tenantId)
      let value: unknown
      try {
        value = JSON.parse(await runAz(args))
      } catch (e) {
        if (e instanceof ApproverSignInError) throw e
        throw new ApproverSignInError(
          'the Azure CLI answered something that is not a token (run `az account get-access-token` to see why)',
        )
      }
      const parsed = CLI_TOKEN.safeParse(value)
      if (!parsed.success)
        throw new ApproverSignInError(
          'the Azure CLI answered something that is not a token (run `az account get-access-token` to see why)',
        )
      registerSecret(parsed.data.accessToken)
      cached = { token: parsed.data.accessToken, expiresOnTimestamp: expiresOnMs(parsed.data) }
      return cached
    },
  }
}
