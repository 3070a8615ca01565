import type { GraphHttp } from '../graphHttp.js'
import type { ThrottleCost } from '../http.js'
import { generateTemporaryPassword } from '../password.js'
import { type User, userSchema } from '../schemas.js'
import type { Batch, BatchItem, BatchItemResult } from './batch.js'
import { parseItem } from './batch.js'

/** The directory facts the policy needs about a user. */
export const USER_SELECT = [
  'id',
  'userPrincipalName',
  'displayName',
  'accountEnabled',
  'onPremisesSyncEnabled',
  'onPremisesSecurityIdentifier',
  'userType',
] as const

/** What read-after-write verification needs on top: when sessions were last revoked, the password last changed. */
export const USER_VERIFY_SELECT = [
  'id',
  'accountEnabled',
  'signInSessionsValidFromDateTime',
  'lastPasswordChangeDateTime',
] as const

const WRITE: ThrottleCost[] = [{ scope: 'directoryWrite', tokens: 1 }]

export interface WriteResult {
  requestId: string | undefined
  clientRequestId: string | undefined
}

export interface CallOptions {
  signal?: AbortSignal | undefined
}

const userPath = (id: string): string => `/users/${encodeURIComponent(id)}`

function parsedUser(result: BatchItemResult): User | Error {
  try {
    return parseItem(result, userSchema)
  } catch (error) {
    return error as Error
  }
}

/** Batch items for directory writes, so the runner can send many through `$batch`. */
export const userItems = {
  revokeSignInSessions: (id: string, itemId = id): BatchItem => ({
    id: itemId,
    method: 'POST',
    url: `${userPath(id)}/revokeSignInSessions`,
    operation: 'users.revokeSignInSessions',
    // Harmless to repeat, but an action all the same: resent only when provably not processed, so
    // the audit and the service agree on how many times it happened.
    idempotent: false,
    throttle: WRITE,
  }),
  setAccountEnabled: (id: string, enabled: boolean, itemId = id): BatchItem => ({
    id: itemId,
    method: 'PATCH',
    url: userPath(id),
    body: { accountEnabled: enabled },
    operation: 'users.setAccountEnabled',
    idempotent: true,
    throttle: WRITE,
  }),
  get: (id: string, select: readonly string[] = USER_SELECT, itemId = id): BatchItem => ({
    id: itemId,
    method: 'GET',
    url: `${userPath(id)}?$select=${select.join(',')}`,
    operation: 'users.get',
  }),
}

export class Users {
  constructor(
    private readonly http: GraphHttp,
    private readonly batch: Batch,
  ) {}

  async get(idOrUpn: string, options: CallOptions & { select?: readonly string[] } = {}): Promise<User> {
    const url = this.http.url(userPath(idOrUpn), { $select: (options.select ?? USER_SELECT).join(',') })
    const { data } = await this.http.call({
      operation: 'users.get',
      method: 'GET',
      url,
      schema: userSchema,
      signal: options.signal,
    })
    return data
  }

  /** Reads many users through `$batch`; each id maps to its user or to the error for that id. */
  async getMany(
    ids: readonly string[],
    options: CallOptions & { select?: readonly string[] } = {},
  ): Promise<Map<string, User | Error>> {
    const out = new Map<string, User | Error>()
    for await (const [id, user] of this.getEach(ids, options)) out.set(id, user)
    return out
  }

  /**
   * Reads many users through `$batch` and yields each (or the error for that id) as its batch
   * answers: thousands of users cost one round of batches in memory, not all of them.
   */
  async *getEach(
    ids: readonly string[],
    options: CallOptions & { select?: readonly string[] } = {},
  ): AsyncGenerator<[string, User | Error], void, undefined> {
    const items = [...new Set(ids)].map((id) => userItems.get(id, options.select))
    for await (const round of this.batch.stream(items, options)) {
      for (const r of round) yield [r.id, r.error ?? parsedUser(r)]
    }
  }

  /** Invalidates refresh tokens and session cookies. The service answers 200 {value:true}, not the documented 204: any 2xx is success. */
  async revokeSignInSessions(id: string, options: CallOptions = {}): Promise<WriteResult> {
    const { response } = await this.http.call({
      operation: 'users.revokeSignInSessions',
      method: 'POST',
      url: this.http.url(`${userPath(id)}/revokeSignInSessions`),
      idempotent: false,
      throttle: WRITE,
      schema: undefined,
      signal: options.signal,
    })
    return { requestId: response.requestId, clientRequestId: response.clientRequestId }
  }

  /** Disables (false) or re-enables (true) a cloud account with PATCH accountEnabled. */
  async setAccountEnabled(id: string, enabled: boolean, options: CallOptions = {}): Promise<WriteResult> {
    const { response } = await this.http.call({
      operation: 'users.setAccountEnabled',
      method: 'PATCH',
      url: this.http.url(userPath(id)),
      body: { accountEnabled: enabled },
      throttle: WRITE,
      schema: undefined,
      signal: options.signal,
    })
    return { requestId: response.requestId, clientRequestId: response.clientRequestId }
  }

  /**
   * Sets a generated temporary password and forces a change at next sign-in. The password is never
   * returned or logged: the user gets a new one through the helpdesk or self-service reset.
   */
  async resetPassword(
    id: string,
    options: CallOptions & { requireMfa?: boolean } = {},
  ): Promise<WriteResult> {
    const { response } = await this.http.call({
      operation: 'users.resetPassword',
      method: 'PATCH',
      // A PATCH, but not idempotent: each attempt sets a different password. Resent only when the
      // service provably did not process it (the fault suite caught a double reset after a 504).
      idempotent: false,
      url: this.http.url(userPath(id)),
      body: {
        passwordProfile: {
          password: generateTemporaryPassword(),
          forceChangePasswordNextSignIn: true,
          forceChangePasswordNextSignInWithMfa: options.requireMfa ?? false,
        },
      },
      throttle: WRITE,
      schema: undefined,
      signal: options.signal,
    })
    return { requestId: response.requestId, clientRequestId: response.clientRequestId }
  }
}
