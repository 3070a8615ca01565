/**
 * The progress line (issue #24): drawn in place on a terminal's stderr from core's diagnostics
 * channels and the run's stages; nothing at all on a stream that is not a terminal.
 */
import { channel } from 'node:diagnostics_channel'
import { CHANNELS } from '@tourniquet/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type ProgressStream, progressText, startProgress } from '../../src/outputs/progress.js'

/** A stream that says it is a terminal and keeps what was written. */
function fakeTerminal(isTTY: boolean, columns = 200): ProgressStream & { chunks: string[] } {
  const chunks: string[] = []
  return {
    isTTY,
    columns,
    chunks,
    write(chunk: string) {
      chunks.push(chunk)
      return true
    },
  }
}

const page = (url: string, status = 200) =>
  channel(CHANNELS.response).publish({ method: 'GET', url, status, attempt: 1, durationMs: 5 })
const wait = (scope: string, waitMs: number) => channel(CHANNELS.throttleWait).publish({ scope, waitMs })

describe('the progress line', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('writes nothing, and listens to nothing, when stderr is not a terminal', () => {
    const stream = fakeTerminal(false)
    expect(startProgress(stream, { title: 'tourniquet run' })).toBeUndefined()
    page('https://graph.microsoft.com/v1.0/identityProtection/riskyUsers?$top=500')
    vi.advanceTimersByTime(1_000)
    expect(stream.chunks).toEqual([])
    expect(channel(CHANNELS.response).hasSubscribers).toBe(false)
  })

  it('redraws one line in place with pages read, users evaluated, steps, Identity Protection waits and the time left', () => {
    const stream = fakeTerminal(true)
    let now = 0
    const progress = startProgress(stream, { title: 'tourniquet apply', everyMs: 100, now: () => now })
    page('https://graph.microsoft.com/v1.0/identityProtection/riskyUsers?$top=500')
    page('https://graph.microsoft.com/v1.0/identityProtection/riskDetections?$skiptoken=x')
    // Not list pages: a single risky user, a refused page, a $batch.
    page('https://graph.microsoft.com/v1.0/identityProtection/riskyUsers/u1')
    page('https://graph.microsoft.com/v1.0/identityProtection/riskDetections?$top=500', 429)
    page('https://graph.microsoft.com/v1.0/$batch')
    wait('identityProtection', 1_500)
    wait('directoryWrite', 9_000)
    progress?.evaluated(1_000)
    progress?.steps(2_000)
    now = 10_000
    progress?.stepsDone(500)
    vi.advanceTimersByTime(100)
    const line = stream.chunks.at(-1) ?? ''
    expect(line.startsWith('\r')).toBe(true)
    expect(line.endsWith('\x1b[K')).toBe(true)
    expect(line).not.toContain('\n')
    expect(line).toContain(
      'tourniquet apply: 2 pages read · 1,000 users evaluated · steps 500/2,000 · 1.5 s waiting on Identity Protection · about 30 s left',
    )
    progress?.stop()
    expect(stream.chunks.at(-1)).toBe('\r\x1b[K')
    const written = stream.chunks.length
    vi.advanceTimersByTime(1_000)
    expect(stream.chunks).toHaveLength(written)
    expect(channel(CHANNELS.throttleWait).hasSubscribers).toBe(false)
  })

  it('fits the terminal: a line wider than its columns is cut, never wrapped', () => {
    const text = progressText(
      'tourniquet run',
      { pages: 12, usersEvaluated: 100_000, stepsDone: 1, stepsTotal: 9, waitedMs: 0, leftMs: 1 },
      40,
    )
    expect(text.length).toBe(39)
    expect(text.endsWith('…')).toBe(true)
  })
})
