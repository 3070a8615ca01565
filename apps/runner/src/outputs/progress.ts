/**
 * Long work shows progress to a person (issue #24): when stderr is a terminal, `run`, `watch` (at
 * a full collection) and `undo` keep one line updated in place: pages read, users evaluated, steps
 * done of all, time spent waiting on Identity Protection's budget, and an estimate of the time
 * left. It is a sink like the audit: it is fed and writes, and nothing reads it back. It never
 * writes to stdout (the JSON lines are for machines) and writes nothing at all when stderr is not
 * a terminal (a container's log would fill with carriage returns).
 *
 * Pages and waits come from core's diagnostics channels; users and steps from the run's stages.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { CHANNELS, type ResponseMessage, type ThrottleWaitMessage } from '@tourniquet/core'

/** The stream the line is drawn on: a terminal says so (`isTTY`) and how wide it is. */
export interface ProgressStream {
  isTTY?: boolean
  columns?: number
  write(chunk: string): boolean
}

export interface ProgressFigures {
  pages: number
  usersEvaluated: number | undefined
  stepsDone: number
  stepsTotal: number | undefined
  /** Time requests spent waiting for Identity Protection's budget (summed over requests in flight). */
  waitedMs: number
  /** Estimated ms left, when the steps done so far allow a guess. */
  leftMs: number | undefined
}

export interface Progress {
  evaluated(users: number): void
  steps(total: number): void
  stepsDone(count: number): void
  /** Clears the line; later calls change nothing. */
  stop(): void
}

const LIST_PAGE = /\/identityProtection\/(riskyUsers|riskDetections|riskyServicePrincipals)(\?|$)/

const seconds = (ms: number): string =>
  ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`
const count = (n: number): string => n.toLocaleString('en-US')

/** The line's text for these figures, at most `columns - 1` characters (a full line would wrap). */
export function progressText(title: string, f: ProgressFigures, columns: number | undefined): string {
  const parts = [`${count(f.pages)} pages read`]
  if (f.usersEvaluated !== undefined) parts.push(`${count(f.usersEvaluated)} users evaluated`)
  if (f.stepsTotal !== undefined) parts.push(`steps ${count(f.stepsDone)}/${count(f.stepsTotal)}`)
  parts.push(`${seconds(f.waitedMs)} waiting on Identity Protection`)
  if (f.leftMs !== undefined) parts.push(`about ${seconds(f.leftMs)} left`)
  const text = `${title}: ${parts.join(' · ')}`
  const width = Math.max(20, (columns ?? 80) - 1)
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

export interface ProgressOptions {
  /** What the line starts with, e.g. "tourniquet run". */
  title: string
  /** Redraw interval (default 250 ms). */
  everyMs?: number
  now?: () => number
}

/** A progress line on `stream` when it is a terminal; undefined (and nothing written) when it is not. */
export function startProgress(stream: ProgressStream, options: ProgressOptions): Progress | undefined {
  if (stream.isTTY !== true) return undefined
  const now = options.now ?? (() => performance.now())
  const figures: ProgressFigures = {
    pages: 0,
    usersEvaluated: undefined,
    stepsDone: 0,
    stepsTotal: undefined,
    waitedMs: 0,
    leftMs: undefined,
  }
  let stepsStartedAt: number | undefined
  let stopped = false
  const onResponse = (message: unknown): void => {
    const m = message as ResponseMessage
    if (m.method === 'GET' && m.status !== undefined && m.status < 300 && LIST_PAGE.test(m.url))
      figures.pages++
  }
  const onWait = (message: unknown): void => {
    const m = message as ThrottleWaitMessage
    if (m.scope === 'identityProtection') figures.waitedMs += m.waitMs
  }
  const draw = (): void => {
    if (stopped) return
    const { stepsDone, stepsTotal } = figures
    figures.leftMs =
      stepsStartedAt !== undefined && stepsTotal !== undefined && stepsDone > 0
        ? ((now() - stepsStartedAt) / stepsDone) * (stepsTotal - stepsDone)
        : undefined
    stream.write(`\r${progressText(options.title, figures, stream.columns)}\x1b[K`)
  }
  subscribe(CHANNELS.response, onResponse)
  subscribe(CHANNELS.throttleWait, onWait)
  const timer = setInterval(draw, options.everyMs ?? 250)
  timer.unref()
  return {
    evaluated(users) {
      figures.usersEvaluated = users
    },
    steps(total) {
      figures.stepsTotal = total
      stepsStartedAt = now()
    },
    stepsDone(n) {
      figures.stepsDone += n
    },
    stop() {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      unsubscribe(CHANNELS.response, onResponse)
      unsubscribe(CHANNELS.throttleWait, onWait)
      stream.write('\r\x1b[K')
    },
  }
}
