/** A minimal identity platform on loopback: records every request and answers token POSTs. */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { LoopbackPki as TestPki } from '@tourniquet/mock-graph'

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  form: URLSearchParams
}

export type TokenAnswer = { status: number; body: unknown }

export interface FakeAuthority {
  origin: string
  requests: RecordedRequest[]
  answer: (req: RecordedRequest) => TokenAnswer
  close(): Promise<void>
}

export const okToken = (token = 'fake-access-token'): TokenAnswer => ({
  status: 200,
  body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token },
})

/** The identity platform's error shape; invalid_client is a 401, the rest 400. */
export function aadstsError(code: number, error: string, description: string): TokenAnswer {
  return {
    status: error === 'invalid_client' ? 401 : 400,
    body: {
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2026-01-01 00:00:00Z`,
      error_codes: [code],
      timestamp: '2026-01-01 00:00:00Z',
      trace_id: '0000',
      correlation_id: '1111',
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  }
}

export async function startFakeAuthority(pki?: TestPki): Promise<FakeAuthority> {
  const state: FakeAuthority = {
    origin: '',
    requests: [],
    answer: () => okToken(),
    close: async () => undefined,
  }
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      }
      state.requests.push(recorded)
      const out =
        recorded.method === 'POST' &&
        new URL(recorded.path, 'http://x').pathname.endsWith('/oauth2/v2.0/token')
          ? state.answer(recorded)
          : { status: 404, body: { error: 'not_found' } }
      res.writeHead(out.status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(out.body))
    })
  }
  const server = pki
    ? createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, handler)
    : createHttpServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  state.origin = `${pki ? 'https' : 'http'}://${pki ? 'localhost' : '127.0.0.1'}:${port}`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}
