import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { isContractError } from '../errors.js'
import { GraphHttp } from './graphHttp.js'
import type { GraphRequest } from './http.js'
import { items, pages } from './paging.js'

const ROOT = 'https://graph.test'
const item = z.object({ id: z.string() })

/**
 * A Graph root answered in memory: `answer` maps each requested URL to a page body. Every request
 * that reaches the wire is recorded, so a test can show which hosts were (never) asked.
 */
function fakeGraph(answer: (url: URL, n: number) => { value: unknown[]; '@odata.nextLink'?: string }) {
  const sent: GraphRequest[] = []
  const http = new GraphHttp(
    async (request) => {
      sent.push(request)
      return {
        status: 200,
        headers: { 'request-id': `r-${sent.length}` },
        body: JSON.stringify(answer(request.url, sent.length)),
        requestId: `r-${sent.length}`,
        clientRequestId: undefined,
      }
    },
    ROOT,
    'v1.0',
  )
  return { http, sent }
}

const first = new URL(`${ROOT}/v1.0/identityProtection/riskyUsers`)
const pageUrl = (n: number): string => `${ROOT}/v1.0/identityProtection/riskyUsers?$skiptoken=${n}`

async function drain(iterable: AsyncIterable<unknown>): Promise<{ read: unknown[]; error: unknown }> {
  const read: unknown[] = []
  try {
    for await (const x of iterable) read.push(x)
  } catch (error) {
    return { read, error }
  }
  return { read, error: undefined }
}

describe('pages', () => {
  it('follows nextLink verbatim until a page carries none, yielding each page as it comes', async () => {
    const { http, sent } = fakeGraph((_url, n) => ({
      value: [{ id: `u${n}` }],
      ...(n < 3 ? { '@odata.nextLink': pageUrl(n) } : {}),
    }))
    const { read, error } = await drain(pages(http, 'riskyUsers.list', first, item))
    expect(error).toBeUndefined()
    expect(read).toEqual([[{ id: 'u1' }], [{ id: 'u2' }], [{ id: 'u3' }]])
    expect(sent.map((r) => r.url.href)).toEqual([first.href, pageUrl(1), pageUrl(2)])
  })

  it('tells each page its nextLink, and a read started from one resumes there: the pages before are not asked again', async () => {
    const { http, sent } = fakeGraph((url) => {
      const n = Number(url.searchParams.get('$skiptoken') ?? 0)
      return { value: [{ id: `u${n}` }], ...(n < 3 ? { '@odata.nextLink': pageUrl(n + 1) } : {}) }
    })
    const links: Array<string | undefined> = []
    await drain(pages(http, 'riskyUsers.list', first, item, { onPage: (p) => links.push(p.nextLink) }))
    expect(links).toEqual([pageUrl(1), pageUrl(2), pageUrl(3), undefined])
    sent.length = 0
    const { read, error } = await drain(pages(http, 'riskyUsers.list', first, item, { from: pageUrl(2) }))
    expect(error).toBeUndefined()
    expect(read).toEqual([[{ id: 'u2' }], [{ id: 'u3' }]])
    expect(sent.map((r) => r.url.href)).toEqual([pageUrl(2), pageUrl(3)])
  })

  it.each([
    ['another host', 'https://evil.test/v1.0/identityProtection/riskyUsers?$skiptoken=1'],
    ['another list on the Graph root', `${ROOT}/v1.0/users?$filter=accountEnabled eq true`],
    ['not a URL', 'riskyUsers?$skiptoken=1'],
  ])('refuses to resume from a link to %s, and sends nothing', async (_, link) => {
    const { http, sent } = fakeGraph(() => ({ value: [{ id: 'u1' }] }))
    const { read, error } = await drain(pages(http, 'riskyUsers.list', first, item, { from: link }))
    expect(read).toEqual([])
    expect(isContractError(error)).toBe(true)
    expect(sent).toEqual([])
  })

  it('items flattens the pages', async () => {
    const { http } = fakeGraph((_url, n) => ({
      value: [{ id: `a${n}` }, { id: `b${n}` }],
      ...(n < 2 ? { '@odata.nextLink': pageUrl(n) } : {}),
    }))
    const { read } = await drain(items(http, 'riskyUsers.list', first, item))
    expect(read).toEqual([{ id: 'a1' }, { id: 'b1' }, { id: 'a2' }, { id: 'b2' }])
  })

  it.each([
    ['another host', 'https://evil.test/v1.0/identityProtection/riskyUsers?$skiptoken=1'],
    ['plain http on the same host', 'http://graph.test/v1.0/identityProtection/riskyUsers?$skiptoken=1'],
    ['another port on the same host', 'https://graph.test:8443/v1.0/identityProtection/riskyUsers'],
    ['a look-alike host', 'https://graph.test.evil.test/v1.0/identityProtection/riskyUsers'],
    ['credentials in the authority', 'https://attacker:pw@graph.test/v1.0/identityProtection/riskyUsers'],
  ])(
    'refuses a nextLink to %s and sends nothing there (it would carry our bearer token)',
    async (_, link) => {
      const { http, sent } = fakeGraph(() => ({ value: [{ id: 'u1' }], '@odata.nextLink': link }))
      const { read, error } = await drain(pages(http, 'riskyUsers.list', first, item))
      expect(read).toEqual([[{ id: 'u1' }]])
      expect(isContractError(error)).toBe(true)
      expect(error).toMatchObject({ path: '@odata.nextLink', operation: 'riskyUsers.list', requestId: 'r-1' })
      expect((error as Error).message).toMatch(
        /^riskyUsers\.list: @odata\.nextLink on page 1 points to .*, outside the configured Graph root https:\/\/graph\.test; refused$/,
      )
      expect(sent.map((r) => r.url.href)).toEqual([first.href])
    },
  )

  it('refuses a nextLink that is not an absolute URL, without a second request', async () => {
    const { http, sent } = fakeGraph(() => ({ value: [], '@odata.nextLink': '/v1.0/users?$skiptoken=2' }))
    const { error } = await drain(pages(http, 'riskyUsers.list', first, item))
    expect(isContractError(error)).toBe(true)
    expect(error).toMatchObject({ path: '@odata.nextLink', requestId: 'r-1' })
    expect((error as Error).message).toBe('riskyUsers.list: @odata.nextLink on page 1 is not an absolute URL')
    expect(sent).toHaveLength(1)
  })

  it('refuses a nextLink back to the first page (a cycle) after reading it once', async () => {
    const { http, sent } = fakeGraph(() => ({ value: [], '@odata.nextLink': first.href }))
    const { error } = await drain(pages(http, 'riskyUsers.list', first, item))
    expect(isContractError(error)).toBe(true)
    expect(error).toMatchObject({ path: '@odata.nextLink', requestId: 'r-1' })
    expect((error as Error).message).toBe(
      'riskyUsers.list: @odata.nextLink on page 1 leads back to a page already read; refused',
    )
    expect(sent).toHaveLength(1)
  })

  it('refuses a cycle further on, naming the page that closed it', async () => {
    // 1 -> 2 -> 3 -> 2
    const { http, sent } = fakeGraph((_url, n) => ({
      value: [],
      '@odata.nextLink': pageUrl(n < 3 ? n + 1 : 2),
    }))
    const { error } = await drain(pages(http, 'riskyUsers.list', first, item))
    expect((error as Error).message).toMatch(/on page 3 leads back to a page already read/)
    expect(sent).toHaveLength(3)
  })

  it('refuses a list longer than maxPages after exactly maxPages requests', async () => {
    const { http, sent } = fakeGraph((_url, n) => ({
      value: [{ id: `u${n}` }],
      '@odata.nextLink': pageUrl(n),
    }))
    const { read, error } = await drain(pages(http, 'riskyUsers.list', first, item, { maxPages: 3 }))
    expect(read).toHaveLength(3)
    expect(isContractError(error)).toBe(true)
    expect(error).toMatchObject({ path: '@odata.nextLink', requestId: 'r-3' })
    expect((error as Error).message).toBe('riskyUsers.list: more than 3 pages; refused (a runaway list)')
    expect(sent).toHaveLength(3)
  })

  it('reads a list of exactly maxPages pages in full', async () => {
    const { http } = fakeGraph((_url, n) => ({
      value: [{ id: `u${n}` }],
      ...(n < 3 ? { '@odata.nextLink': pageUrl(n) } : {}),
    }))
    const { read, error } = await drain(pages(http, 'riskyUsers.list', first, item, { maxPages: 3 }))
    expect(error).toBeUndefined()
    expect(read).toHaveLength(3)
  })

  it('caps an endless list at 10,000 pages by default', async () => {
    const { http, sent } = fakeGraph((_url, n) => ({ value: [], '@odata.nextLink': pageUrl(n) }))
    const { error } = await drain(pages(http, 'riskyUsers.list', first, item))
    expect((error as Error).message).toBe('riskyUsers.list: more than 10000 pages; refused (a runaway list)')
    expect(sent).toHaveLength(10_000)
  })
})
