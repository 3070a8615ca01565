/**
 * Structural comparison of JSON documents: every field the fixture has, the other has too, with the
 * same JSON type (null in the fixture accepts anything; each array item must match some item of the other array).
 */
export function shapeMismatches(fixture: unknown, actual: unknown, path = '$'): string[] {
  if (fixture === null) return []
  const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
  if (kind(fixture) !== kind(actual)) return [`${path}: fixture has ${kind(fixture)}, got ${kind(actual)}`]
  if (Array.isArray(fixture) && Array.isArray(actual)) {
    if (fixture.length === 0 || actual.length === 0) return []
    // Each fixture item must have the shape of some item of the answer (order is not part of the contract).
    return fixture.flatMap((item, i) => {
      const tries = actual.map((a) => shapeMismatches(item, a, `${path}[${i}]`))
      return tries.some((t) => t.length === 0) ? [] : (tries.sort((x, y) => x.length - y.length)[0] ?? [])
    })
  }
  if (typeof fixture === 'object' && fixture !== null) {
    const out: string[] = []
    for (const [k, v] of Object.entries(fixture)) {
      if (k.startsWith('@odata.') && k !== '@odata.type') continue
      const a = (actual as Record<string, unknown>)[k]
      if (a === undefined) out.push(`${path}.${k}: missing`)
      else out.push(...shapeMismatches(v, a, `${path}.${k}`))
    }
    return out
  }
  return []
}
