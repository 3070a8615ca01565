import type { GraphHttp } from '../graphHttp.js'
import type { ThrottleCost } from '../http.js'
import { eq } from '../odata.js'
import { items, type PageOptions } from '../paging.js'
import {
  type IdentityAccount,
  type InvokeActionResult,
  identityAccountMaybeWrappedSchema,
  identityAccountSchema,
  invokeActionResultSchema,
  pageSchema,
} from '../schemas.js'
import { type Batch, type BatchItem, parseItem } from './batch.js'

const LOOKUP: ThrottleCost[] = [{ scope: 'defenderForIdentity', tokens: 1 }]
const identityPageSchema = pageSchema(identityAccountSchema)

/** Batch items for Defender for Identity reads. */
export const identityAccountItems = {
  /** The identities whose on-premises SID is `sid` (the list filtered as the docs' example does). */
  bySid: (sid: string, itemId = sid): BatchItem => ({
    id: itemId,
    method: 'GET',
    url: `/security/identities/identityAccounts?$filter=${encodeURIComponent(eq('onPremisesSecurityIdentifier', sid).text)}`,
    operation: 'identityAccounts.list',
    throttle: LOOKUP,
  }),
}

export const IDENTITY_PROVIDERS = ['activeDirectory', 'entraID', 'okta'] as const
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number]

export const IDENTITY_ACTIONS = [
  'disable',
  'enable',
  'forcePasswordReset',
  'revokeAllSessions',
  'requireUserToSignInAgain',
  'markUserAsCompromised',
] as const
export type IdentityAction = (typeof IDENTITY_ACTIONS)[number]

/** Canonical spelling of an enum value the service sends in any case ("ActiveDirectory", "Enable"). */
function canonical<T extends string>(
  values: readonly T[],
  value: string | undefined,
): T | string | undefined {
  if (value === undefined) return undefined
  return values.find((v) => v.toLowerCase() === value.toLowerCase()) ?? value
}

export interface Account {
  identifier: string
  /** activeDirectory | entraID | okta, or a newer value kept as sent. */
  provider: IdentityProvider | string | undefined
  actions: Array<IdentityAction | string>
}

export interface DefenderIdentity extends Omit<IdentityAccount, 'accounts'> {
  accounts: Account[]
}

function normalize(account: IdentityAccount): DefenderIdentity {
  return {
    ...account,
    accounts: account.accounts.map((a) => ({
      identifier: a.identifier,
      provider: canonical(IDENTITY_PROVIDERS, a.provider),
      actions: a.actions.map((x) => canonical(IDENTITY_ACTIONS, x) ?? x),
    })),
  }
}

export interface ListIdentityAccountsQuery {
  onPremisesSecurityIdentifier?: string
}

export interface InvokeActionInput {
  /** The identityAccounts id (path). */
  identityAccountId: string
  /** accounts[].identifier of the provider account to act on. */
  accountId: string
  action: IdentityAction
  identityProvider: IdentityProvider
}

export class IdentityAccounts {
  constructor(
    private readonly http: GraphHttp,
    private readonly batch: Batch,
  ) {}

  /**
   * Looks up the identities of many on-premises SIDs through `$batch` (20 a request) under the
   * Defender for Identity budget, yielding each SID's matches (or the error for it) as its batch
   * answers. Only the first page of each answer is read: more than one match is already ambiguous.
   */
  async *findBySids(
    sids: readonly string[],
    options: { signal?: AbortSignal | undefined } = {},
  ): AsyncGenerator<[string, DefenderIdentity[] | Error], void, undefined> {
    const unique = [...new Set(sids)]
    const items = unique.map((sid, i) => identityAccountItems.bySid(sid, String(i)))
    for await (const round of this.batch.stream(items, options)) {
      for (const r of round) {
        const sid = unique[Number(r.id)] as string
        if (r.error) {
          yield [sid, r.error]
          continue
        }
        try {
          yield [sid, parseItem(r, identityPageSchema).value.map(normalize)]
        } catch (error) {
          yield [sid, error as Error]
        }
      }
    }
  }

  async *list(
    query: ListIdentityAccountsQuery = {},
    options: PageOptions = {},
  ): AsyncGenerator<DefenderIdentity> {
    const filter =
      query.onPremisesSecurityIdentifier === undefined
        ? undefined
        : eq('onPremisesSecurityIdentifier', query.onPremisesSecurityIdentifier).text
    const url = this.http.url('/security/identities/identityAccounts', { $filter: filter })
    for await (const a of items(this.http, 'identityAccounts.list', url, identityAccountSchema, options))
      yield normalize(a)
  }

  async get(id: string, options: { signal?: AbortSignal | undefined } = {}): Promise<DefenderIdentity> {
    const url = this.http.url(`/security/identities/identityAccounts/${encodeURIComponent(id)}`)
    const { data } = await this.http.call({
      operation: 'identityAccounts.get',
      method: 'GET',
      url,
      schema: identityAccountMaybeWrappedSchema,
      signal: options.signal,
    })
    return normalize(data)
  }

  /**
   * Asks Defender for Identity to act on an account. Asynchronous on the service side: a 200 means
   * accepted, not applied; the correlationId is what the audit keeps.
   */
  async invokeAction(
    input: InvokeActionInput,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<InvokeActionResult & { requestId: string | undefined }> {
    const url = this.http.url(
      `/security/identities/identityAccounts/${encodeURIComponent(input.identityAccountId)}/invokeAction`,
    )
    const { data, response } = await this.http.call({
      operation: 'identityAccounts.invokeAction',
      method: 'POST',
      url,
      body: { accountId: input.accountId, action: input.action, identityProvider: input.identityProvider },
      idempotent: false,
      schema: invokeActionResultSchema,
      signal: options.signal,
    })
    return {
      ...data,
      identityProvider: canonical(IDENTITY_PROVIDERS, data.identityProvider),
      requestId: response.requestId,
    }
  }
}
