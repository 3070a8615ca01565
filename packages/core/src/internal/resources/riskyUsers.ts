import type { GraphHttp } from '../graphHttp.js'
import type { ThrottleCost } from '../http.js'
import { and, anyOf, gt } from '../odata.js'
import { items, type PageOptions, selectText } from '../paging.js'
import {
  type RiskyUser,
  type RiskyUserHistoryItem,
  riskyUserHistoryItemSchema,
  riskyUserMaybeWrappedSchema,
  riskyUserSchema,
} from '../schemas.js'
import { type BulkResult, runChunks } from './chunked.js'

/** The documented maximum of ids per dismiss call; we apply it to every bulk risk action. */
export const RISKY_USERS_CHUNK = 60
export const RISKY_USERS_MAX_TOP = 500

/** The properties a risky user must carry to be read at all. */
const REQUIRED = ['id', 'riskLevel', 'riskState']

/** What a policy decides on (and the deleted flag, to leave deleted users out). */
export const RISKY_USER_SELECT = [
  ...REQUIRED,
  'userPrincipalName',
  'riskDetail',
  'isDeleted',
  'riskLastUpdatedDateTime',
] as const

const IP: ThrottleCost[] = [{ scope: 'identityProtection', tokens: 1 }]

export interface RiskyUserQuery {
  riskLevels?: readonly string[]
  riskStates?: readonly string[]
  /**
   * Only users whose risk changed after this time (read-after-write checks, incremental runs), as
   * `riskLastUpdatedDateTime gt`: the one operator list Microsoft published for the property is
   * eq, gt, lt (msgraph-sdk-go models/risky_user.go, 2024-02/03), and `gt` reportedly returns equal
   * times too (microsoft-graph-docs issue 13750): callers overlap their windows rather than rely on
   * either reading. No docs page lists it as filterable: a caller needs a fallback for a 400.
   */
  updatedAfter?: Date
  top?: number
  /** Properties to return ($select); the ones the schema requires are always added. */
  select?: readonly string[]
}

export interface CallOptions {
  signal?: AbortSignal | undefined
}

export class RiskyUsers {
  constructor(private readonly http: GraphHttp) {}

  list(query: RiskyUserQuery = {}, options: PageOptions = {}): AsyncGenerator<RiskyUser> {
    const top = Math.min(query.top ?? RISKY_USERS_MAX_TOP, RISKY_USERS_MAX_TOP)
    const filter = and(
      anyOf('riskLevel', query.riskLevels),
      anyOf('riskState', query.riskStates),
      query.updatedAfter === undefined ? undefined : gt('riskLastUpdatedDateTime', query.updatedAfter),
    )?.text
    const url = this.http.url('/identityProtection/riskyUsers', {
      $top: String(top),
      $filter: filter,
      $select: selectText(REQUIRED, query.select),
    })
    return items(this.http, 'riskyUsers.list', url, riskyUserSchema, { ...options, throttle: IP })
  }

  async get(userId: string, options: CallOptions = {}): Promise<RiskyUser> {
    const url = this.http.url(`/identityProtection/riskyUsers/${encodeURIComponent(userId)}`)
    const { data } = await this.http.call({
      operation: 'riskyUsers.get',
      method: 'GET',
      url,
      schema: riskyUserMaybeWrappedSchema,
      throttle: IP,
      signal: options.signal,
    })
    return data
  }

  history(userId: string, options: PageOptions = {}): AsyncGenerator<RiskyUserHistoryItem> {
    const url = this.http.url(`/identityProtection/riskyUsers/${encodeURIComponent(userId)}/history`)
    return items(this.http, 'riskyUsers.history', url, riskyUserHistoryItemSchema, {
      ...options,
      throttle: IP,
    })
  }

  /** Sets each user's risk to high / confirmedCompromised; 60 ids per call. */
  confirmCompromised(userIds: readonly string[], options: CallOptions = {}): Promise<BulkResult> {
    return this.bulk('confirmCompromised', userIds, options)
  }

  /** Dismisses each user's risk (level none, state dismissed); 60 ids per call. */
  dismiss(userIds: readonly string[], options: CallOptions = {}): Promise<BulkResult> {
    return this.bulk('dismiss', userIds, options)
  }

  /** Confirms each user safe (level none, state confirmedSafe); 60 ids per call. */
  confirmSafe(userIds: readonly string[], options: CallOptions = {}): Promise<BulkResult> {
    return this.bulk('confirmSafe', userIds, options)
  }

  private bulk(
    action: 'confirmCompromised' | 'dismiss' | 'confirmSafe',
    userIds: readonly string[],
    options: CallOptions,
  ): Promise<BulkResult> {
    const url = this.http.url(`/identityProtection/riskyUsers/${action}`)
    return runChunks(userIds, RISKY_USERS_CHUNK, async (ids) => {
      const { response } = await this.http.call({
        operation: `riskyUsers.${action}`,
        method: 'POST',
        url,
        body: { userIds: ids },
        // Not safe to repeat blindly: resent only when the service provably did not process it.
        idempotent: false,
        throttle: IP,
        schema: undefined,
        signal: options.signal,
      })
      return { requestId: response.requestId, clientRequestId: response.clientRequestId }
    })
  }
}
