/**
 * Delivers a run's notification to each target, after the run's work is done and recorded: a target
 * that fails or hangs costs at most its bounded attempts and never changes what the job did or its
 * exit code. Each attempt has a timeout; failures are retried with backoff while the run's deadline
 * allows; every target's result goes into the audit (by kind and origin only: the URL is a secret).
 * Generic JSON is signed: `X-Tourniquet-Signature: sha256=<hex HMAC-SHA256 of the body>`.
 */
import { createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { jsonPayload, type RunDigest, slackPayload, teamsPayload } from './message.js'
import type { NotifyTarget } from './targets.js'

export interface NotifySettings {
  targets: NotifyTarget[]
  /** HMAC key for generic JSON (TOURNIQUET_NOTIFY_SECRET); unsigned without it. */
  secret: string | undefined
  /** One attempt's time limit, ms (TOURNIQUET_NOTIFY_TIMEOUT). */
  timeoutMs: number
}

export interface Delivery {
  target: string
  status: 'delivered' | 'failed'
  attempts: number
  /** Why it failed: a status code or a network error's name, never a URL. */
  error?: string
}

const ATTEMPTS = 3
const BACKOFF_MS = [1_000, 3_000]

export const SIGNATURE_HEADER = 'x-tourniquet-signature'

export function sign(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

function request(
  target: NotifyTarget,
  digest: RunDigest,
  secret: string | undefined,
): { body: string; headers: Record<string, string> } {
  const payload =
    target.kind === 'teams'
      ? teamsPayload(digest)
      : target.kind === 'slack'
        ? slackPayload(digest)
        : jsonPayload(digest)
  const body = JSON.stringify(payload)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (target.kind === 'json' && secret !== undefined) headers[SIGNATURE_HEADER] = sign(body, secret)
  return { body, headers }
}

async function attempt(
  target: NotifyTarget,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<string | undefined> {
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    })
    await res.body?.cancel()
    return res.ok ? undefined : `HTTP ${res.status}`
  } catch (e) {
    const name = (e as Error).name
    return name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `network error (${name})`
  }
}

async function deliver(
  target: NotifyTarget,
  digest: RunDigest,
  settings: NotifySettings,
  deadlineAt: number,
): Promise<Delivery> {
  const { body, headers } = request(target, digest, settings.secret)
  let error: string | undefined
  let attempts = 0
  while (attempts < ATTEMPTS) {
    attempts++
    error = await attempt(
      target,
      body,
      headers,
      Math.min(settings.timeoutMs, Math.max(1, deadlineAt - Date.now())),
    )
    if (error === undefined) return { target: target.label, status: 'delivered', attempts }
    const wait = BACKOFF_MS[attempts - 1]
    if (wait === undefined || Date.now() + wait + settings.timeoutMs > deadlineAt) break
    await sleep(wait)
  }
  return { target: target.label, status: 'failed', attempts, error: error ?? 'not sent' }
}

/** Sends the digest to every target side by side; never throws. */
export async function notify(
  digest: RunDigest,
  settings: NotifySettings,
  deadlineAt: number,
): Promise<Delivery[]> {
  return Promise.all(settings.targets.map((t) => deliver(t, digest, settings, deadlineAt)))
}
