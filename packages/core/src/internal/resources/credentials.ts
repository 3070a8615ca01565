/**
 * Credential removal, shared by applications and service principals: both carry
 * `passwordCredentials` and `keyCredentials` and the same two ways to lose one.
 *
 * - Passwords: `POST .../removePassword {keyId}` (application-removepassword.md,
 *   serviceprincipal-removepassword.md).
 * - Keys: not `removeKey`, which needs a proof-of-possession JWT signed by one of the object's own
 *   valid certificates (application-removekey.md): a containment tool holds none. The documented
 *   alternative is an update of `keyCredentials` (serviceprincipal-update.md lists it; the removeKey
 *   note says update "can continue to be used to add and update key credentials"): read the list
 *   with `$select=keyCredentials` (the one read that returns each `key`, resources/keycredential.md)
 *   and PATCH back the ones kept, in one request.
 *
 * What is recorded of a removed credential is its keyId, kind, display name and (passwords) hint:
 * never a secret (a GET never returns one) nor a certificate's data.
 */
import type { z } from 'zod'
import { isAbortedError } from '../../errors.js'
import type { GraphHttp } from '../graphHttp.js'
import type { ThrottleCost } from '../http.js'
import type { GraphOperation } from '../permissions.js'
import { type KeyCredential, type PasswordCredential, rawKeyCredentialsSchema } from '../schemas.js'

export type CredentialKind = 'password' | 'key'

/** Credentials to remove from one object, by keyId. */
export interface CredentialSelection {
  passwordKeyIds?: readonly string[]
  keyKeyIds?: readonly string[]
}

export interface RemovedCredential {
  kind: CredentialKind
  keyId: string
  displayName: string | undefined
  /** A password's hint (its first characters, as the portal shows them); undefined for keys. */
  hint: string | undefined
  requestId: string | undefined
}

export interface CredentialRemoval {
  /** The object (application or service principal) the credentials were removed from. */
  objectId: string
  removed: RemovedCredential[]
  /** Asked for but not on the object when read: removed already (by an earlier run or a person). */
  absent: Array<{ kind: CredentialKind; keyId: string }>
  failed: Array<{ kind: CredentialKind; keyId: string; error: Error }>
}

export const DIRECTORY_WRITE: ThrottleCost[] = [{ scope: 'directoryWrite', tokens: 1 }]

export interface CredentialOwner {
  passwordCredentials: PasswordCredential[]
  keyCredentials: KeyCredential[]
}

interface Operations {
  removePassword: GraphOperation
  removeKeys: GraphOperation
}

export interface WriteResult {
  requestId: string | undefined
  clientRequestId: string | undefined
}

/** One `POST {path}/removePassword {keyId}`. */
export async function removePassword(
  http: GraphHttp,
  path: string,
  keyId: string,
  operation: GraphOperation,
  signal: AbortSignal | undefined,
): Promise<WriteResult> {
  const { response } = await http.call({
    operation,
    method: 'POST',
    url: http.url(`${path}/removePassword`),
    body: { keyId },
    // A second removal of the same keyId is an error, not a no-op: resent only when provably not
    // processed; after an unknown outcome the caller reads the object back.
    idempotent: false,
    throttle: DIRECTORY_WRITE,
    schema: undefined,
    signal,
  })
  return { requestId: response.requestId, clientRequestId: response.clientRequestId }
}

/**
 * Removes the selected credentials from the object at `path` (`/applications/{id}` or
 * `/servicePrincipals/{id}`), given its current credentials. One failure does not stop the others;
 * an abort does.
 */
export async function removeCredentials(
  http: GraphHttp,
  path: string,
  objectId: string,
  current: CredentialOwner,
  selection: CredentialSelection,
  operations: Operations,
  signal: AbortSignal | undefined,
): Promise<CredentialRemoval> {
  const out: CredentialRemoval = { objectId, removed: [], absent: [], failed: [] }
  const passwords = new Map(current.passwordCredentials.map((c) => [c.keyId.toLowerCase(), c]))
  for (const keyId of new Set(selection.passwordKeyIds ?? [])) {
    const cred = passwords.get(keyId.toLowerCase())
    if (!cred) {
      out.absent.push({ kind: 'password', keyId })
      continue
    }
    try {
      const { requestId } = await removePassword(http, path, cred.keyId, operations.removePassword, signal)
      out.removed.push({
        kind: 'password',
        keyId: cred.keyId,
        displayName: cred.displayName,
        hint: cred.hint,
        requestId,
      })
    } catch (error) {
      if (isAbortedError(error)) throw error
      out.failed.push({ kind: 'password', keyId: cred.keyId, error: error as Error })
    }
  }

  const keys = new Map(current.keyCredentials.map((c) => [c.keyId.toLowerCase(), c]))
  const wanted = [...new Set(selection.keyKeyIds ?? [])]
  const present = wanted.filter((k) => keys.has(k.toLowerCase()))
  for (const keyId of wanted) if (!keys.has(keyId.toLowerCase())) out.absent.push({ kind: 'key', keyId })
  if (present.length === 0) return out
  try {
    // The list with each key's data, read just before the write so the PATCH keeps exactly the
    // keys that exist now.
    const { data } = await http.call({
      operation: operations.removeKeys,
      method: 'GET',
      url: http.url(path, { $select: 'keyCredentials' }),
      schema: rawKeyCredentialsSchema,
      signal,
    })
    const drop = new Set(present.map((k) => k.toLowerCase()))
    const kept: Array<z.output<typeof rawKeyCredentialsSchema>['keyCredentials'][number]> =
      data.keyCredentials.filter((k) => !drop.has(k.keyId.toLowerCase()))
    const { response } = await http.call({
      operation: operations.removeKeys,
      method: 'PATCH',
      url: http.url(path),
      body: { keyCredentials: kept },
      // The same list twice leaves the same keys: safe to resend.
      idempotent: true,
      throttle: DIRECTORY_WRITE,
      schema: undefined,
      signal,
    })
    for (const keyId of present) {
      const cred = keys.get(keyId.toLowerCase()) as KeyCredential
      out.removed.push({
        kind: 'key',
        keyId: cred.keyId,
        displayName: cred.displayName,
        hint: undefined,
        requestId: response.requestId,
      })
    }
  } catch (error) {
    if (isAbortedError(error)) throw error
    for (const keyId of present) out.failed.push({ kind: 'key', keyId, error: error as Error })
  }
  return out
}
