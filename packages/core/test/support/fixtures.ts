import {
  createGraphClient,
  type GraphClient,
  type GraphClientOptions,
  type TokenProvider,
} from '../../src/index.js'

/** Hosts under .invalid never resolve: if interception ever stops, requests fail instead of leaving the machine. */
export const GRAPH = 'https://graph.tourniquet.invalid'
export const LOGIN = 'https://login.tourniquet.invalid'
export const TENANT = '11111111-2222-3333-4444-555555555555'

export function stubTokens(): TokenProvider & { calls: Array<{ forceRefresh: boolean }> } {
  const calls: Array<{ forceRefresh: boolean }> = []
  let n = 0
  return {
    description: 'stub',
    calls,
    async getToken({ forceRefresh }) {
      calls.push({ forceRefresh })
      n++
      return { token: `stub-token-${n}`, expiresOnMs: Date.now() + 3_600_000 }
    },
  }
}

export function testClient(overrides: Partial<GraphClientOptions> = {}): GraphClient {
  return createGraphClient({
    tenantId: TENANT,
    clientId: 'client',
    credential: { kind: 'secret', clientSecret: 'unused-in-this-test' },
    graphRoot: GRAPH,
    authorityHost: LOGIN,
    tokenProvider: stubTokens(),
    random: () => 0.5,
    // Tests must not wait for real budgets; the throttle policy has its own tests.
    throttle: {
      identityProtection: { capacity: 1_000, refillPerSecond: 1_000 },
      directoryWrite: { capacity: 1_000, refillPerSecond: 1_000 },
    },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  })
}
