import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isPolicyError, parsePolicy } from '@tourniquet/policy'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'

const EXAMPLE = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'policy.yaml'), 'utf8')

/** A policy file is either a Policy or a PolicyError whose issues name the file and a path; nothing else. */
function outcome(text: string): 'ok' | 'refused' {
  try {
    parsePolicy(text, 'fuzz.yaml')
    return 'ok'
  } catch (e) {
    expect(isPolicyError(e), `not a PolicyError: ${(e as Error)?.stack}`).toBe(true)
    const issues = (e as { issues: Array<{ file: string; path: string; message: string }> }).issues
    expect(issues.length).toBeGreaterThan(0)
    for (const i of issues) {
      expect(i.file).toBe('fuzz.yaml')
      expect(i.path.length).toBeGreaterThan(0)
      expect(i.message.length).toBeGreaterThan(0)
    }
    return 'refused'
  }
}

describe('bad policy files: a located PolicyError, never a crash', () => {
  it('arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => void outcome(text)),
      { numRuns: 500 },
    )
  })

  it('arbitrary JSON documents', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => void outcome(JSON.stringify(value))),
      { numRuns: 500 },
    )
  })

  it('the example policy with one value replaced by anything, anywhere', () => {
    const example = parsePolicy(EXAMPLE)
    const raw = JSON.parse(
      JSON.stringify({ ...example, limits: { maxActionsPerRun: 50, maxPerAction: { disable: 5 } } }),
    )
    const paths: Array<Array<string | number>> = []
    const walk = (v: unknown, path: Array<string | number>): void => {
      paths.push(path)
      if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) walk(x, [...path, i])
      } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k])
    }
    walk(raw, [])
    fc.assert(
      fc.property(
        fc.constantFrom(...paths.filter((p) => p.length > 0)),
        fc.jsonValue({ maxDepth: 2 }),
        (path, value) => {
          const copy = JSON.parse(JSON.stringify(raw))
          let target = copy
          for (const part of path.slice(0, -1)) target = target[part]
          target[path.at(-1) as string] = value
          outcome(stringify(copy))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('unknown actions and keys are named with what was expected', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => /^[a-zA-Z]+$/.test(s)),
        (name) => {
          const text = EXAMPLE.replace('then: [revokeSessions]', `then: [${name}]`)
          try {
            parsePolicy(text, 'p.yaml')
          } catch (e) {
            expect((e as Error).message).toMatch(new RegExp(`unknown action '${name}'; expected one of`))
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('YAML bombs, duplicate keys and huge files are refused quickly', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(', ')}]`,
      ),
    ].join('\n')
    const started = performance.now()
    expect(outcome(bomb)).toBe('refused')
    expect(outcome(`${EXAMPLE}\nversion: 1\n`)).toBe('refused')
    expect(outcome(`${EXAMPLE}\n#${'x'.repeat(2 * 1024 * 1024)}`)).toBe('refused')
    expect(performance.now() - started).toBeLessThan(5_000)
  })
})
