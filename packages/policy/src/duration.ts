/**
 * ISO 8601 durations in days, hours, minutes and seconds (`PT24H`, `P7D`, `P1DT12H`). Years and
 * months are refused: their length depends on the calendar, and a lookback must be exact.
 */
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text)
  if (!m || text === 'P' || text.endsWith('T')) return undefined
  const [, d, h, min, s] = m
  const ms = ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000
  return ms > 0 ? ms : undefined
}

export function formatDuration(ms: number): string {
  const hours = ms / 3_600_000
  return Number.isInteger(hours) ? `PT${hours}H` : `PT${Math.round(ms / 1000)}S`
}
