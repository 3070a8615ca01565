import { createServer, type Server } from 'node:https'
import {
  type AddressInfo,
  connect,
  createServer as createNetServer,
  type Server as NetServer,
} from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createUndiciTransport } from './undiciTransport.js'

// The throttle paces Identity Protection from when a request reaches the wire (decision 003): the
// transport must report that moment, not when the pipeline handed the request over. A server whose
// TLS handshake waits 250 ms makes the two differ.
describe('the transport reports when a request reaches the wire', () => {
  const HANDSHAKE_DELAY_MS = 250
  // Made once per run by test/support/pki.ts.
  const pki = inject('loopbackPki')
  let server: Server
  let proxy: NetServer
  let origin: string
  let receivedAt: number | undefined

  beforeAll(async () => {
    server = createServer({ key: pki.keyPem, cert: pki.certPem }, (_req, res) => {
      receivedAt = Date.now()
      res.setHeader('content-type', 'application/json')
      res.end('{}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    // A slow path in front of it: each connection is accepted at once, but its bytes reach the
    // server only after the delay, so the TLS handshake (and with it the request) waits.
    proxy = createNetServer((client) => {
      client.pause()
      setTimeout(() => {
        const upstream = connect(port, '127.0.0.1', () => {
          client.pipe(upstream)
          upstream.pipe(client)
          client.resume()
        })
      }, HANDSHAKE_DELAY_MS)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    origin = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise<void>((r) => proxy.close(() => r()))
    await new Promise<void>((r) => server.close(() => r()))
  })

  it('calls onSent once, after the connection is set up and before the server has the request', async () => {
    const transport = createUndiciTransport({ ca: pki.caPem })
    const sent: number[] = []
    const handedOver = Date.now()
    const res = await transport.send({
      method: 'GET',
      url: new URL(`${origin}/v1.0/identityProtection/riskyUsers`),
      headers: {},
      onSent: (at) => sent.push(at),
    })
    await transport.close()
    expect(res.status).toBe(200)
    expect(sent).toHaveLength(1)
    const at = sent[0] as number
    expect(at - handedOver).toBeGreaterThanOrEqual(HANDSHAKE_DELAY_MS - 20)
    expect(at).toBeLessThanOrEqual(receivedAt as number)
  })
})
