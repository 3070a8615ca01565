/**
 * A fake of the few GraphClient methods the runner's decision code calls, in memory: lists page
 * the way core's `pages` does (onPage told of each answer before its items are yielded), single
 * reads answer from maps or throw a Graph-shaped error (branded like core's, so `isGraphError`
 * takes it), and every call is recorded for the test to count.
 */
import {
  ErrorCode,
  type GraphClient,
  type PageInfo,
  type RiskDetection,
  type RiskyUser,
} from '@tourniquet/core'

/** An error `isGraphError` accepts, with the status a caller reacts to. */
export function graphError(status: number, message = `Graph answered ${status}`): Error {
  return Object.assign(new Error(message), {
    [Symbol.for('tourniquet.error')]: true,
    code: ErrorCode.Graph,
    status,
  })
}

export interface FakePage<T> {
  items: T[]
  /** The answer's `Date` header. */
  date?: string | undefined
}

/** A list's answers in order; `error` answers the request after the last page instead of ending it. */
export interface FakeList<T> {
  pages: Array<FakePage<T>>
  error?: unknown
}

export interface DirectoryUser {
  id?: string
  userPrincipalName?: string | undefined
  accountEnabled?: boolean | undefined
  onPremisesSyncEnabled?: boolean | undefined
  onPremisesSecurityIdentifier?: string | undefined
  userType?: string | undefined
}

export interface FakeIdentity {
  id: string
  onPremisesSecurityIdentifier?: string | undefined
  accounts: Array<{ identifier: string; provider: string | undefined; actions: string[] }>
}

export interface ListCall {
  query: Record<string, unknown>
}

export class FakeGraph {
  riskyUserList: FakeList<RiskyUser> = { pages: [] }
  detectionList: FakeList<RiskDetection> = { pages: [] }
  /** `GET riskyUsers/{id}`: a record, an error to throw, or absent (404). */
  riskyUserById = new Map<string, RiskyUser | Error>()
  detectionById = new Map<string, RiskDetection | Error>()
  /** `$batch` directory reads: the user, an error for that item, or absent (no answer for the id). */
  directory = new Map<string, DirectoryUser | Error>()
  /** Defender for Identity identities by SID as asked (upper case), or the error for that SID. */
  identitiesBySid = new Map<string, FakeIdentity[] | Error>()

  /** From which `getEach` call (1 for the first) the directory answers for a user; before it, not at all. */
  directoryAnswersFrom = new Map<string, number>()
  /** Event-loop turns the directory's `$batch` takes to answer, so a concurrent read can land first. */
  directoryTurns = 0
  /** The options of every call, in order, to check what the caller passed (its signal, its $select). */
  readonly options: Array<[string, unknown]> = []

  readonly calls = {
    riskyUsersList: [] as ListCall[],
    detectionsList: [] as ListCall[],
    riskyUsersGet: [] as string[],
    detectionsGet: [] as string[],
    usersGetEach: [] as string[][],
    findBySids: [] as string[][],
  }

  readonly client = {
    riskyUsers: {
      list: (query: Record<string, unknown>, options: ListOptions = {}) => {
        this.options.push(['riskyUsers.list', options])
        this.calls.riskyUsersList.push({ query })
        return paged(this.riskyUserList, options, 'riskyUsers')
      },
      get: async (id: string, options: unknown) => {
        this.options.push(['riskyUsers.get', options])
        this.calls.riskyUsersGet.push(id)
        return answer(this.riskyUserById.get(id))
      },
    },
    riskDetections: {
      list: (query: Record<string, unknown>, options: ListOptions = {}) => {
        this.options.push(['riskDetections.list', options])
        this.calls.detectionsList.push({ query })
        return paged(this.detectionList, options, 'riskDetections')
      },
      get: async (id: string, options: unknown) => {
        this.options.push(['riskDetections.get', options])
        this.calls.detectionsGet.push(id)
        return answer(this.detectionById.get(id))
      },
    },
    users: {
      getEach: (ids: readonly string[], options: unknown) => {
        this.options.push(['users.getEach', options])
        this.calls.usersGetEach.push([...ids])
        const directory = this.directory
        const turns = this.directoryTurns
        const call = this.calls.usersGetEach.length
        const from = this.directoryAnswersFrom
        return (async function* () {
          for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
          for (const id of ids) {
            if ((from.get(id) ?? 1) > call) continue
            const u = directory.get(id)
            if (u !== undefined) yield [id, u instanceof Error ? u : { id, ...u }] as const
          }
        })()
      },
    },
    identityAccounts: {
      findBySids: (sids: readonly string[], options: unknown) => {
        this.options.push(['identityAccounts.findBySids', options])
        this.calls.findBySids.push([...sids])
        const bySid = this.identitiesBySid
        return (async function* () {
          for (const sid of sids) yield [sid, bySid.get(sid) ?? []] as const
        })()
      },
    },
  }

  get graph(): GraphClient {
    return this.client as unknown as GraphClient
  }
}

async function answer<T>(value: T | Error | undefined): Promise<T> {
  if (value === undefined) throw graphError(404, 'Not found')
  if (value instanceof Error) throw value
  return value
}

interface ListOptions {
  onPage?: (p: PageInfo) => void
  from?: string | undefined
}

/** The link a fake list gives for its page `n` (1-based): a resumed read starts there. */
export const pageLink = (list: string, n: number): string =>
  `https://graph.test/v1.0/identityProtection/${list}?page=${n}`

/**
 * Answers the pages in order (from the page `from` names, when given), telling each its nextLink;
 * `error` answers the request after the last page. A `from` that names no page is refused, as a
 * link the service no longer answers would be.
 */
async function* paged<T>(list: FakeList<T>, { onPage, from }: ListOptions, name: string): AsyncGenerator<T> {
  const start = from === undefined ? 1 : Number(new URL(from).searchParams.get('page'))
  if (!(start >= 1 && start <= list.pages.length + 1)) throw graphError(400, 'the skip token is not valid')
  let number = 0
  for (const page of list.pages.slice(start - 1)) {
    number++
    const more = start - 1 + number < list.pages.length || list.error !== undefined
    onPage?.({
      number,
      date: page.date,
      items: page.items.length,
      nextLink: more ? pageLink(name, start + number) : undefined,
    })
    yield* page.items
  }
  if (list.error !== undefined) throw list.error
}

export function riskyUser(id: string, fields: Partial<RiskyUser> = {}): RiskyUser {
  return {
    id,
    userPrincipalName: `${id}@contoso.test`,
    riskLevel: 'high',
    riskState: 'atRisk',
    riskDetail: 'none',
    riskLastUpdatedDateTime: '2026-12-01T10:00:00Z',
    isDeleted: false,
    ...fields,
  } as RiskyUser
}

export function detection(id: string, userId: string, fields: Partial<RiskDetection> = {}): RiskDetection {
  return {
    id,
    userId,
    riskEventType: 'unfamiliarFeatures',
    riskLevel: 'high',
    source: 'IdentityProtection',
    detectedDateTime: '2026-12-01T09:00:00Z',
    detectionTimingType: 'realtime',
    lastUpdatedDateTime: '2026-12-01T09:05:00Z',
    ...fields,
  } as RiskDetection
}
