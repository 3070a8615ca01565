import type { z } from 'zod'
import { ContractError } from '../errors.js'
import type { GraphHttp } from './graphHttp.js'
import type { ThrottleCost } from './http.js'
import type { GraphOperation } from './permissions.js'
import { pageSchema } from './schemas.js'

/** 10,000 pages: five million items at 500 a page, far past any tenant's risky users. */
const MAX_PAGES = 10_000

export interface PageOptions {
  signal?: AbortSignal | undefined
  /** Pages at most before the list is refused as runaway (default 10,000). */
  maxPages?: number | undefined
  /** Throttle cost of each page request (set by the resource, not by callers). */
  throttle?: ThrottleCost[] | undefined
  /**
   * Told of each page as it answers, before its items are yielded: its number (1 for the first
   * request), the service's `Date` header, and how many items it held. A caller that must know
   * which request failed (the first, or a later page) or Graph's own clock reads it here.
   */
  onPage?: ((page: PageInfo) => void) | undefined
  /**
   * Start at this nextLink, given by an earlier read of the same list (PageInfo.nextLink), instead of
   * the first request: a long read resumes where it stopped. It must be within the Graph root and
   * name the list's own path; anything else is refused (a stored link is input like any other).
   */
  from?: string | undefined
}

export interface PageInfo {
  /** 1 for the answer to the first request, 2 for the first nextLink, ... */
  number: number
  /** The response's `Date` header: the service's clock when it answered. */
  date: string | undefined
  items: number
  /** The link to the page after this one; undefined on the last page. */
  nextLink?: string | undefined
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
  let url: URL | undefined =
    options.from === undefined ? first : resumeAt(http, operation, first, options.from)
  let page = 0
  // A nextLink that leads back to a page already read would be followed until the platform kills
  // the job: every link is remembered, and the number of pages is capped.
  const seen = new Set<string>([url.href])
  const maxPages = options.maxPages ?? MAX_PAGES
  while (url !== undefined) {
    const { data, response } = await http.call({
      operation,
      method: 'GET',
      url,
      schema,
      signal: options.signal,
      throttle: options.throttle,
    })
    page++
    const next = data['@odata.nextLink']
    options.onPage?.({ number: page, date: response.headers.date, items: data.value.length, nextLink: next })
    yield data.value as Array<z.output<S>>
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
    if (seen.has(parsed.href))
      throw new ContractError(
        `${operation}: @odata.nextLink on page ${page} leads back to a page already read; refused`,
        {
          operation,
          path: '@odata.nextLink',
          requestId: response.requestId,
        },
      )
    if (page >= maxPages)
      throw new ContractError(`${operation}: more than ${maxPages} pages; refused (a runaway list)`, {
        operation,
        path: '@odata.nextLink',
        requestId: response.requestId,
      })
    seen.add(parsed.href)
    url = parsed
  }
}

/** Where a resumed read starts: a stored nextLink of this very list, under the Graph root. */
function resumeAt(http: GraphHttp, operation: GraphOperation, first: URL, link: string): URL {
  const parsed = URL.parse(link)
  if (parsed === null || parsed.origin !== http.graphRoot || parsed.pathname !== first.pathname)
    throw new ContractError(
      `${operation}: the link to resume from is not a page of this list under ${http.graphRoot}; refused`,
      { operation, path: 'from' },
    )
  return parsed
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
