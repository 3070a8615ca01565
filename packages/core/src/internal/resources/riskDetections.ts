import type { GraphHttp } from '../graphHttp.js'
import { and, anyOf, ge } from '../odata.js'
import { items, type PageOptions } from '../paging.js'
import { type RiskDetection, riskDetectionSchema } from '../schemas.js'

export interface RiskDetectionQuery {
  /** Only detections detected at or after this time. */
  since?: Date
  riskLevels?: readonly string[]
  riskEventTypes?: readonly string[]
  /** Page size; Graph's maximum for riskDetections is 500 (default 20). */
  top?: number
}

export const RISK_DETECTIONS_MAX_TOP = 500

/** Builds the `$filter` text for a detection query (exposed for tests and dry-run output). */
export function riskDetectionFilter(query: RiskDetectionQuery): string | undefined {
  return and(
    query.since === undefined ? undefined : ge('detectedDateTime', query.since),
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
    })
    return items(this.http, 'riskDetections.list', url, riskDetectionSchema, { ...options, throttle: IP })
  }
}

const IP = [{ scope: 'identityProtection' as const, tokens: 1 }]
