/** Wiring for contract tests: @tourniquet/core, as users import it, against the mock Graph. */
import { createGraphClient, type GraphClient, type GraphClientOptions } from '@tourniquet/core'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  type InterceptedNetwork,
  interceptNetwork,
  type MockGraph,
  type MockGraphOptions,
  mswHandlers,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
} from '@tourniquet/mock-graph'

/** .invalid hosts: a request that escaped interception could never reach a real service. */
export const LOGIN = 'https://login.mock.invalid'
export const GRAPH = 'https://graph.mock.invalid'
/** The mock runs its limits this many times faster than Graph; the client's budgets match. */
export const TIME_SCALE = 50

/**
 * The client's budgets at the mock's speed, with a margin: at 50x, one Identity Protection slot is
 * 20 ms, and loopback jitter of a few ms would otherwise make two requests arrive closer than that.
 */
export function matchedThrottle(scale = TIME_SCALE): NonNullable<GraphClientOptions['throttle']> {
  return {
    identityProtection: { capacity: 1, refillPerSecond: scale * 0.8 },
    directoryWrite: { capacity: 3_000, refillPerSecond: (3_000 / 150) * scale * 0.8 },
  }
}

export function clientFor(overrides: Partial<GraphClientOptions> = {}): GraphClient {
  return createGraphClient({
    tenantId: DEFAULT_TENANT_ID,
    clientId: REMEDIATION_APP_ID,
    credential: { kind: 'secret', clientSecret: REMEDIATION_APP_SECRET },
    authorityHost: LOGIN,
    graphRoot: GRAPH,
    throttle: matchedThrottle(),
    retry: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 8 },
    ...overrides,
  })
}

export class ContractHarness {
  network!: InterceptedNetwork
  mock!: MockGraph

  async start(): Promise<void> {
    this.network = await interceptNetwork()
  }

  async stop(): Promise<void> {
    await this.network.disable()
  }

  /** A fresh tenant served on the login and Graph origins (and any extra ones, e.g. an identity endpoint). */
  use(options: MockGraphOptions = {}, extraOrigins: string[] = []): MockGraph {
    this.mock = createMockGraph({ timeScale: TIME_SCALE, ...options })
    this.network.resetHandlers(...mswHandlers(this.mock, [LOGIN, GRAPH, ...extraOrigins]))
    return this.mock
  }

  /** Statuses the mock answered for Graph paths (token requests excluded). */
  statuses(): Array<number | 'reset'> {
    return this.mock.log.filter((l) => /^\/(v1\.0|beta)\//.test(l.path)).map((l) => l.status)
  }
}
