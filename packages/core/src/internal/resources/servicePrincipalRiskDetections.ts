import type { GraphHttp } from '../graphHttp.js'
import type { ThrottleCost } from '../http.js'
import { and, anyOf, ge } from '../odata.js'
import { items, type PageOptions, selectText } from '../paging.js'
import { type ServicePrincipalRiskDetection, servicePrincipalRiskDetectionSchema } from '../schemas.js'

const IP: ThrottleCost[] = [{ scope: 'identityProtection', tokens: 1 }]

/** The properties a detection must carry to be read at all. */
const REQUIRED = ['id', 'servicePrincipalId', 'riskEventType', 'riskLevel', 'detectedDateTime']

/** What a workload-identity policy decides on, and what credential removal "within the window" needs. */
export const SERVICE_PRINCIPAL_RISK_DETECTION_SELECT = [
  ...REQUIRED,
  'appId',
  'riskState',
  'source',
  'detectionTimingType',
  'lastUpdatedDateTime',
  'keyIds',
] as const

export interface ServicePrincipalRiskDetectionQuery {
  /** Detected at or after this time (`detectedDateTime ge`, as for user risk detections). */
  since?: Date
  riskLevels?: readonly string[]
  riskEventTypes?: readonly string[]
  /** Only these service principals (`servicePrincipalId eq`, or-ed). */
  servicePrincipalIds?: readonly string[]
  /** Properties to return ($select); the ones the schema requires are always added. */
  select?: readonly string[]
}

/** Builds the `$filter` text for a service principal detection query. */
export function servicePrincipalRiskDetectionFilter(
  query: ServicePrincipalRiskDetectionQuery,
): string | undefined {
  return and(
    query.since === undefined ? undefined : ge('detectedDateTime', query.since),
    anyOf('riskLevel', query.riskLevels),
    anyOf('riskEventType', query.riskEventTypes),
    anyOf('servicePrincipalId', query.servicePrincipalIds),
  )?.text
}

/**
 * Risk detections of workload identities. The list page documents $filter and $select only (no
 * $top): the page size is the service's.
 */
export class ServicePrincipalRiskDetections {
  constructor(private readonly http: GraphHttp) {}

  list(
    query: ServicePrincipalRiskDetectionQuery = {},
    options: PageOptions = {},
  ): AsyncGenerator<ServicePrincipalRiskDetection> {
    const url = this.http.url('/identityProtection/servicePrincipalRiskDetections', {
      $filter: servicePrincipalRiskDetectionFilter(query),
      $select: selectText(REQUIRED, query.select),
    })
    return items(this.http, 'servicePrincipalRiskDetections.list', url, servicePrincipalRiskDetectionSchema, {
      ...options,
      throttle: IP,
    })
  }

  async get(
    id: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<ServicePrincipalRiskDetection> {
    const { data } = await this.http.call({
      operation: 'servicePrincipalRiskDetections.get',
      method: 'GET',
      url: this.http.url(`/identityProtection/servicePrincipalRiskDetections/${encodeURIComponent(id)}`),
      schema: servicePrincipalRiskDetectionSchema,
      throttle: IP,
      signal: options.signal,
    })
    return data
  }
}
