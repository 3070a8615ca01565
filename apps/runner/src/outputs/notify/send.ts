/**
 * Delivers a run's notification to each target, after the run's work is done and recorded: a target
 * that fails or hangs costs at most its bounded attempts and never changes what the job did or its
 * exit code. Each attempt has a timeout; failures are retried with backoff while the run's deadline
 * allows; every target's result goes into the audit (by kind and origin only: the URL is a secret).
 * Generic JSON is signed over the time and the body, so a captured request cannot be replayed
 * later: `X-Tourniquet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (the shape
 * Stripe and Slack use). Each target may have its own key, so one receiver cannot forge messages
 * to another. How a receiver checks it is in the README (constant-time compare, a 5-minute window,
 * de-duplication on runId); `verifySignature` below is that check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { jsonPayload, type RunDigest, slackPayload, teamsPayload } from './message.js'
import type { NotifyTarget } from './targets.js'

export interface NotifySettings {
  targets: NotifyTarget[]
  /**
   * HMAC key for generic JSON targets without a key of their own (TOURNIQUET_NOTIFY_SECRET); a
   * target with neither is sent unsigned, and every run that sends to it warns.
   */
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

/** How far a receiver lets a signature's time be from its own clock (README: 5 minutes). */
export const SIGNATURE_TOLERANCE_SECONDS = 300

const hmac = (key: string, t: number, body: string): string =>
  createHmac('sha256', key).update(`${t}.${body}`).digest('hex')

/** The signature header's value for `body` sent at `nowMs`. */
export function sign(body: string, key: string, nowMs: number = Date.now()): string {
  const t = Math.floor(nowMs / 1000)
  return `t=${t},v1=${hmac(key, t, body)}`
}

/**
 * The receiver's check, as the README describes it: the header parses, its time is within the
 * tolerance of the receiver's clock, and one of its v1 values equals the HMAC (compared in
 * constant time). De-duplicating on the body's runId is the receiver's own part.
 */
export function verifySignature(
  header: string | undefined,
  body: string,
  key: string,
  nowMs: number = Date.now(),
): boolean {
  if (header === undefined) return false
  const parts = header.split(',').map((p) => p.trim().split('='))
  const t = Number(parts.find(([k]) => k === 't')?.[1])
  if (!Number.isInteger(t) || Math.abs(nowMs / 1000 - t) > SIGNATURE_TOLERANCE_SECONDS) return false
  const expected = Buffer.from(hmac(key, t, body), 'hex')
  return parts
    .filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v as string, 'hex'), expected))
}

/** The key that signs for a target: its own, else the shared one; only generic JSON is signed. */
const keyFor = (target: NotifyTarget, settings: NotifySettings): string | undefined =>
  target.kind === 'json' ? (target.key ?? settings.secret) : undefined

/** One warning per generic JSON target that would go unsigned (its receiver cannot tell who sent it). */
export function unsignedWarnings(settings: NotifySettings): string[] {
  return settings.targets
    .filter((t) => t.kind === 'json' && keyFor(t, settings) === undefined)
    .map(
      (t) =>
        `notification target ${t.entry} (${t.label}) is sent unsigned: set TOURNIQUET_NOTIFY_SECRET_${t.entry} (or TOURNIQUET_NOTIFY_SECRET) so its receiver can check who sent it`,
    )
}

function request(
  target: NotifyTarget,
  digest: RunDigest,
  key: string | undefined,
): { body: string; headers: Record<string, string> } {
  const payload =
    target.kind === 'teams'
      ? teamsPayload(digest)
      : target.kind === 'slack'
        ? slackPayload(digest)
        : jsonPayload(digest)
  const body = JSON.stringify(payload)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (key !== undefined) headers[SIGNATURE_HEADER] = sign(body, key)
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
  const { body, headers } = request(target, digest, keyFor(target, settings))
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
