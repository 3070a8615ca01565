/** Response helpers in the shapes the identity platform and Graph use. */
import { randomUUID } from 'node:crypto'

export const RESET = Symbol('connection reset')
export type MockResult = Response | typeof RESET

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

export function noContent(): Response {
  return new Response(null, { status: 204 })
}

/** The Graph error shape: {error:{code,message,innerError:{date,request-id,client-request-id}}}. */
export function graphError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return json(
    status,
    {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': randomUUID(),
          'client-request-id': randomUUID(),
        },
      },
    },
    headers,
  )
}

export class HttpFailure extends Error {
  constructor(readonly response: Response) {
    super('http failure')
  }
}

export const badRequest = (message: string, code = 'Request_BadRequest'): HttpFailure =>
  new HttpFailure(graphError(400, code, message))
export const notFound = (what: string): HttpFailure =>
  new HttpFailure(
    graphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
    ),
  )
