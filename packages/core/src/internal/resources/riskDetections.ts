import type { GraphHttp } from '../graphHttp.js'
import { and, anyOf, ge, gt } from '../odata.js'
import { items, type PageOptions, selectText } from '../paging.js'
import { type RiskDetection, riskDetectionSchema } from '../schemas.js'

export interface RiskDetectionQuery {
  /** Only detections detected at or after this time (the documented filter). */
  since?: Date
  /**
   * Only detections that appeared or changed after this time (`lastUpdatedDateTime gt`, the operator
   * used for the risky users' property too): the way to see a late offline detection, which keeps
   * its old `detectedDateTime`. No docs page lists the property as filterable (microsoft-graph-docs
   * issues 13750, 19592): a caller needs a fallback for a 400.
   */
  updatedAfter?: Date
  riskLevels?: readonly string[]
  riskEventTypes?: readonly string[]
  /** Page size; Graph's maximum for riskDetections is 500 (default 20). */
  top?: number
  /** Properties to return ($select); the ones the schema requires are always added. */
  select?: readonly string[]
}

export const RISK_DETECTIONS_MAX_TOP = 500

/** The properties a detection must carry to be read at all. */
const REQUIRED = ['id', 'userId', 'riskEventType', 'riskLevel', 'detectedDateTime']

/** What a policy decides on: a page of 500 is then a third of its full size to send and parse. */
export const RISK_DETECTION_SELECT = [
  ...REQUIRED,
  'source',
  'detectionTimingType',
  'lastUpdatedDateTime',
] as const

/** Builds the `$filter` text for a detection query (exposed for tests and dry-run output). */
export function riskDetectionFilter(query: RiskDetectionQuery): string | undefined {
  return and(
    query.since === undefined ? undefined : ge('detectedDateTime', query.since),
    query.updatedAfter === undefined ? undefined : gt('lastUpdatedDateTime', query.updatedAfter),
    anyOf('riskLevel', query.riskLevels),
    anyOf('riskEventType', query.riskEventTypes),
  )?.text
}

export class RiskDetections {
  constructor(private readonly http: GraphHttp) {}

  /** Streams matching detections (Identity Protection scope: paced at 1 request/s per tenant). */
  list(query: RiskDetectionQuery = {}, options: PageOptions = {}): AsyncGenerator<RiskDetection> {
    const top = Math.min(query.top ?? RISK_DETECTIONS_MAX_TOP, RISK_DETECTIONS_MAX_TOP)
    const url = this.http.url('/identityProtection/riskDetections', {
      $top: String(top),
      $filter: riskDetectionFilter(query),
      $select: selectText(REQUIRED, query.select),
    })
    return items(this.http, 'riskDetections.list', url, riskDetectionSchema, { ...options, throttle: IP })
  }

  /** One detection by id (`GET /identityProtection/riskDetections/{id}`, documented beside the list). */
  async get(id: string, options: { signal?: AbortSignal | undefined } = {}): Promise<RiskDetection> {
    const url = this.http.url(`/identityProtection/riskDetections/${encodeURIComponent(id)}`)
    const { data } = await this.http.call({
      operation: 'riskDetections.get',
      method: 'GET',
      url,
      schema: riskDetectionSchema,
      throttle: IP,
      signal: options.signal,
    })
    return data
  }
}

const IP = [{ scope: 'identityProtection' as const, tokens: 1 }]
