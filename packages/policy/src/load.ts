/**
 * Reads a policy (or case) document from YAML or JSON text with positions, so every problem points
 * at a line. YAML's hazards are closed: duplicate keys are errors, aliases are capped (no "billion
 * laughs"), and the text size is bounded.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml'
import type { z } from 'zod'
import { PolicyError, type PolicyIssue } from './errors.js'
import { type Policy, policySchema } from './schema.js'

export const MAX_POLICY_BYTES = 1024 * 1024
const MAX_ALIASES = 100

export function renderPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path)
    out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`
  return out === '' ? '(document)' : out
}

/**
 * The deepest node of the document that exists along `path` (a missing key points at its parent).
 * With `keyNode`, the last step returns the key itself (where an unknown key is written).
 */
function nodeAt(root: Node | null, path: ReadonlyArray<PropertyKey>, keyNode = false): Node | null {
  let node: Node | null = root
  for (const [i, part] of path.entries()) {
    if (keyNode && i === path.length - 1 && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part))
      return pair && isScalar(pair.key) ? pair.key : node
    }
    let next: unknown
    if (isMap(node)) next = node.get(String(part), true)
    else if (isSeq(node) && typeof part === 'number') next = node.get(part, true)
    else break
    if (next === undefined || next === null || typeof next !== 'object') break
    node = next as Node
  }
  return node
}

export interface ParsedDocument {
  value: unknown
  locate(
    path: ReadonlyArray<PropertyKey>,
    keyNode?: boolean,
  ): { line: number | undefined; column: number | undefined }
}

/** Parses YAML or JSON; syntax problems become a PolicyError with positions. */
export function parseText(text: string, file: string): ParsedDocument {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw new PolicyError([
      {
        file,
        line: undefined,
        column: undefined,
        path: '(document)',
        message: `the file is larger than ${MAX_POLICY_BYTES} bytes`,
      },
    ])
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true })
  const problems = [...doc.errors]
  if (problems.length > 0) {
    throw new PolicyError(
      problems.map((e) => {
        const pos = lineCounter.linePos(e.pos[0])
        return {
          file,
          line: pos.line,
          column: pos.col,
          path: '(syntax)',
          message: e.message.split('\n')[0] ?? e.message,
        }
      }),
    )
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES })
  } catch (e) {
    throw new PolicyError([
      {
        file,
        line: undefined,
        column: undefined,
        path: '(document)',
        message: `cannot be read: ${(e as Error).message}`,
      },
    ])
  }
  return {
    value,
    locate(path, keyNode = false) {
      const node = nodeAt(doc.contents as Node | null, path, keyNode)
      const offset = node?.range?.[0]
      if (offset === undefined) return { line: undefined, column: undefined }
      const pos = lineCounter.linePos(offset)
      return { line: pos.line, column: pos.col }
    },
  }
}

/** Validates a parsed document against a schema; every zod issue becomes a located PolicyIssue. */
export function validate<S extends z.ZodType>(schema: S, parsed: ParsedDocument, file: string): z.output<S> {
  const result = schema.safeParse(parsed.value)
  if (result.success) return result.data
  const issues: PolicyIssue[] = result.error.issues.map((issue) => {
    let path = issue.path
    let message = issue.message
    let keyNode = false
    if (issue.code === 'unrecognized_keys') {
      keyNode = true
      // Point at the unknown key itself.
      const key = issue.keys[0] ?? ''
      path = [...issue.path, key]
      message = `unknown key '${key}'${issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).join(', ')})` : ''}`
    } else if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) {
      message = `expected ${issue.expected}`
    }
    return { file, ...parsed.locate(path, keyNode), path: renderPath(path), message }
  })
  throw new PolicyError(issues)
}

/** Parses and validates policy text. */
export function parsePolicy(text: string, file = 'policy.yaml'): Policy {
  const parsed = parseText(text, file)
  if (parsed.value === null || parsed.value === undefined) {
    throw new PolicyError([
      {
        file,
        line: undefined,
        column: undefined,
        path: '(document)',
        message: 'the file is empty; expected a policy with version, lookback and rules',
      },
    ])
  }
  return validate(policySchema, parsed, file)
}
