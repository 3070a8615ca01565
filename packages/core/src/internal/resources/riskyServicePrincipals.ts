import type { GraphHttp } from '../graphHttp.js'
import type { ThrottleCost } from '../http.js'
import { and, anyOf } from '../odata.js'
import { items, type PageOptions, selectText } from '../paging.js'
import {
  type RiskyServicePrincipal,
  riskyServicePrincipalMaybeWrappedSchema,
  riskyServicePrincipalSchema,
} from '../schemas.js'
import { type BulkResult, runChunks } from './chunked.js'

/**
 * Ids per confirmCompromised / dismiss call. The dismiss page documents "up to 60 service principal
 * accounts in one request" (riskyserviceprincipal-dismiss.md); the confirmCompromised page names no
 * limit, so the same 60 applies to it too rather than finding the real one in a tenant.
 */
export const RISKY_SERVICE_PRINCIPALS_CHUNK = 60

/** The properties a risky service principal must carry to be read at all. */
const REQUIRED = ['id', 'riskLevel', 'riskState']

/** What a workload-identity policy decides on. */
export const RISKY_SERVICE_PRINCIPAL_SELECT = [
  ...REQUIRED,
  'appId',
  'displayName',
  'isEnabled',
  'isProcessing',
  'riskDetail',
  'riskLastUpdatedDateTime',
  'servicePrincipalType',
] as const

// The riskyServicePrincipals endpoints live under /identityProtection: paced on the tenant's one
// request per second that Identity Protection shares with the risky-user reads and actions.
const IP: ThrottleCost[] = [{ scope: 'identityProtection', tokens: 1 }]

export interface RiskyServicePrincipalQuery {
  /** `riskLevel eq` (the resource page lists $filter eq for riskLevel). */
  riskLevels?: readonly string[]
  /** `riskState eq`: not listed as filterable on the resource page, but an eq on an entity enum; see CONTRACT.md. */
  riskStates?: readonly string[]
  /** Page size ($top is documented on the list page; no maximum is given). */
  top?: number
  /** Properties to return ($select); the ones the schema requires are always added. */
  select?: readonly string[]
}

export interface CallOptions {
  signal?: AbortSignal | undefined
}

/**
 * Risky workload identities. There is no incremental read: the only operator published for
 * `riskLastUpdatedDateTime` here is eq (resources/riskyserviceprincipal.md), so a run reads the
 * at-risk set whole; service principals at risk are few next to users.
 */
export class RiskyServicePrincipals {
  constructor(private readonly http: GraphHttp) {}

  list(
    query: RiskyServicePrincipalQuery = {},
    options: PageOptions = {},
  ): AsyncGenerator<RiskyServicePrincipal> {
    const url = this.http.url('/identityProtection/riskyServicePrincipals', {
      $top: query.top === undefined ? undefined : String(query.top),
      $filter: and(anyOf('riskLevel', query.riskLevels), anyOf('riskState', query.riskStates))?.text,
      $select: selectText(REQUIRED, query.select),
    })
    return items(this.http, 'riskyServicePrincipals.list', url, riskyServicePrincipalSchema, {
      ...options,
      throttle: IP,
    })
  }

  async get(id: string, options: CallOptions = {}): Promise<RiskyServicePrincipal> {
    const url = this.http.url(`/identityProtection/riskyServicePrincipals/${encodeURIComponent(id)}`)
    const { data } = await this.http.call({
      operation: 'riskyServicePrincipals.get',
      method: 'GET',
      url,
      schema: riskyServicePrincipalMaybeWrappedSchema,
      throttle: IP,
      signal: options.signal,
    })
    return data
  }

  /** Sets each service principal's risk to high (confirmedCompromised); 60 ids per call. */
  confirmCompromised(ids: readonly string[], options: CallOptions = {}): Promise<BulkResult> {
    return this.bulk('confirmCompromised', ids, options)
  }

  /** Dismisses each service principal's risk (level none); 60 ids per call, as documented. */
  dismiss(ids: readonly string[], options: CallOptions = {}): Promise<BulkResult> {
    return this.bulk('dismiss', ids, options)
  }

  private bulk(
    action: 'confirmCompromised' | 'dismiss',
    ids: readonly string[],
    options: CallOptions,
  ): Promise<BulkResult> {
    const url = this.http.url(`/identityProtection/riskyServicePrincipals/${action}`)
    return runChunks(ids, RISKY_SERVICE_PRINCIPALS_CHUNK, async (part) => {
      const { response } = await this.http.call({
        operation: `riskyServicePrincipals.${action}`,
        method: 'POST',
        url,
        body: { servicePrincipalIds: part },
        // An action: resent only when the service provably did not process it.
        idempotent: false,
        throttle: IP,
        schema: undefined,
        signal: options.signal,
      })
      return { requestId: response.requestId, clientRequestId: response.clientRequestId }
    })
  }
}
