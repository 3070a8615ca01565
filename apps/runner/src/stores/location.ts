/**
 * Where a store lives: a local path, or an https URL of an Azure blob. Every place that chooses
 * between the two asks here, so "file or blob" is decided once.
 */

/** An http(s) URL names a blob; anything else is a path. */
export const isRemote = (at: string): boolean => /^https?:\/\//i.test(at)

/**
 * A store beside another (the evidence state and the requests trail beside the ledger). A URL is
 * extended in its path, and its query is dropped first: appended to the whole text, the suffix would
 * land in a SAS query string and name the ledger blob itself.
 */
export function beside(location: string, suffix: string): string {
  const url = isRemote(location) ? URL.parse(location) : null
  if (url === null) return `${location}${suffix}`
  url.search = ''
  url.hash = ''
  url.pathname = `${url.pathname}${suffix}`
  return url.toString()
}

/** A blob's URL as shown in lines and used as its identity: without a query (a SAS is a credential). */
export function withoutQuery(url: string): string {
  const u = new URL(url)
  u.search = ''
  return u.toString()
}
