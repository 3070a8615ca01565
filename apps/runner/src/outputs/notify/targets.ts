/**
 * Where a run's notification goes: TOURNIQUET_NOTIFY_URLS, comma-separated. Each entry is a Microsoft
 * Teams Workflows webhook, a Slack incoming webhook or any other https endpoint (generic JSON,
 * signed). The kind is told by the host, or named by a prefix (`teams:`, `slack:`, `json:`). A
 * webhook URL is a credential (whoever holds it can post): it is registered with the sanitizer and
 * only its origin is ever written.
 */
import { isLoopbackHost } from '@tourniquet/core'

export const NOTIFY_KINDS = ['teams', 'slack', 'json'] as const
export type NotifyKind = (typeof NOTIFY_KINDS)[number]

export interface NotifyTarget {
  kind: NotifyKind
  url: string
  /** What the audit may show: the kind and the origin, never the path or query (they hold the token). */
  label: string
  /** Its place in TOURNIQUET_NOTIFY_URLS, from 1: TOURNIQUET_NOTIFY_SECRET_<entry> is its own key. */
  entry: number
  /** This target's own HMAC key (generic JSON only). */
  key?: string | undefined
}

// Workflows ("post to a channel when a webhook request is received") URLs: Power Automate and Power
// Platform hosts, and the older Logic Apps host.
const TEAMS_HOST = /(^|\.)(powerautomate\.com|powerplatform\.com|flow\.microsoft\.com|logic\.azure\.com)$/i
const SLACK_HOST = /^hooks\.slack\.com$/i

/** Parses one entry; a string naming what is wrong (without quoting the URL) when it cannot be used. */
export function parseTarget(entry: string, index = 1): NotifyTarget | string {
  const prefixed = /^(teams|slack|json):(.*)$/i.exec(entry)
  const text = prefixed ? (prefixed[2] ?? '') : entry
  const url = URL.parse(text)
  if (url === null) return 'is not a URL'
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    return 'must use https (plain http only for a loopback address)'
  if (url.username !== '' || url.password !== '') return 'must not carry credentials before the host'
  const kind = prefixed
    ? (prefixed[1]?.toLowerCase() as NotifyKind)
    : TEAMS_HOST.test(url.hostname)
      ? 'teams'
      : SLACK_HOST.test(url.hostname)
        ? 'slack'
        : 'json'
  return { kind, url: url.href, label: `${kind} ${url.origin}`, entry: index }
}
