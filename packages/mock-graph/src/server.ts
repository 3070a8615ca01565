/** The mock on a real loopback socket (HTTP or HTTPS with a generated CA): e2e tests, demo, benchmarks. */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { RESET } from './http.js'
import type { MockGraph } from './mock.js'
import { createLoopbackPki, type LoopbackPki } from './tls.js'

export interface ServeOptions {
  /** Port to listen on (0 = any free port). */
  port?: number
  /** Serve HTTPS with a generated test CA (default) or plain HTTP. */
  https?: boolean
  /** Reuse a CA (e.g. to restart on the same trust). */
  pki?: LoopbackPki
}

export interface RunningMock {
  /** Origin serving both the identity platform and Graph, e.g. https://localhost:50123. */
  url: string
  /** PEM of the CA to trust, for HTTPS. */
  caPem: string | undefined
  close(): Promise<void>
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue
    headers.set(k, Array.isArray(v) ? v.join(', ') : v)
  }
  const method = req.method ?? 'GET'
  const body = chunks.length > 0 && method !== 'GET' && method !== 'HEAD' ? Buffer.concat(chunks) : undefined
  return new Request(`${origin}${req.url ?? '/'}`, { method, headers, body })
}

export async function serveMock(mock: MockGraph, options: ServeOptions = {}): Promise<RunningMock> {
  const useHttps = options.https ?? true
  const pki = useHttps ? (options.pki ?? (await createLoopbackPki())) : undefined
  let origin = ''
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    // Stamped when the headers are in, before the body is read: other requests' work can run
    // while it is, and that time is the mock's, not the client's (CONTRACT.md "ip-throttle").
    const arrivedAt = mock.now()
    void (async () => {
      try {
        const result = await mock.handle(await toRequest(req, origin), arrivedAt)
        if (result === RESET) {
          req.socket.destroy()
          return
        }
        const body = Buffer.from(await result.arrayBuffer())
        const headers: Record<string, string> = {}
        result.headers.forEach((v, k) => {
          headers[k] = v
        })
        headers['content-length'] = String(body.length)
        res.writeHead(result.status, headers)
        res.end(body)
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            error: { code: 'generalException', message: `mock-graph failed: ${(error as Error).message}` },
          }),
        )
      }
    })()
  }
  const server: Server = pki
    ? createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, handler)
    : createHttpServer(handler)
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  origin = useHttps ? `https://localhost:${port}` : `http://127.0.0.1:${port}`
  return {
    url: origin,
    caPem: pki?.caPem,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
