import type { z } from 'zod'
import { ContractError } from '../errors.js'
import type { GraphHttp } from './graphHttp.js'
import type { ThrottleCost } from './http.js'
import type { GraphOperation } from './permissions.js'
import { pageSchema } from './schemas.js'

export interface PageOptions {
  signal?: AbortSignal | undefined
  /** Throttle cost of each page request (set by the resource, not by callers). */
  throttle?: ThrottleCost[] | undefined
}

/** The `$select` text for a query: undefined (every property) or the wanted ones plus the required ones. */
export function selectText(
  required: readonly string[],
  wanted: readonly string[] | undefined,
): string | undefined {
  return wanted === undefined ? undefined : [...new Set([...required, ...wanted])].join(',')
}

/**
 * Streams a collection page by page, following `@odata.nextLink` verbatim; memory stays flat in the
 * number of items. A nextLink outside the configured Graph root is refused: a forged link must never
 * receive our bearer token.
 */
export async function* pages<S extends z.ZodType>(
  http: GraphHttp,
  operation: GraphOperation,
  first: URL,
  item: S,
  options: PageOptions = {},
): AsyncGenerator<Array<z.output<S>>, void, undefined> {
  const schema = pageSchema(item)
  const root = `${http.graphRoot}/`
  let url: URL | undefined = first
  let page = 0
  while (url !== undefined) {
    const { data, response } = await http.call({
      operation,
      method: 'GET',
      url,
      schema,
      signal: options.signal,
      throttle: options.throttle,
    })
    yield data.value as Array<z.output<S>>
    page++
    const next = data['@odata.nextLink']
    if (next === undefined) return
    let parsed: URL
    try {
      parsed = new URL(next)
    } catch {
      throw new ContractError(`${operation}: @odata.nextLink on page ${page} is not an absolute URL`, {
        operation,
        path: '@odata.nextLink',
        requestId: response.requestId,
      })
    }
    if (parsed.origin !== http.graphRoot || !parsed.href.startsWith(root)) {
      throw new ContractError(
        `${operation}: @odata.nextLink on page ${page} points to ${parsed.origin}, outside the configured Graph root ${http.graphRoot}; refused`,
        { operation, path: '@odata.nextLink', requestId: response.requestId },
      )
    }
    url = parsed
  }
}

/** Item-by-item view over `pages`. */
export async function* items<S extends z.ZodType>(
  http: GraphHttp,
  operation: GraphOperation,
  first: URL,
  item: S,
  options: PageOptions = {},
): AsyncGenerator<z.output<S>, void, undefined> {
  for await (const page of pages(http, operation, first, item, options)) yield* page
}
