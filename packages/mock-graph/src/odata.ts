/**
 * A small OData $filter parser and evaluator: comparisons (eq ne gt ge lt le), and/or/not,
 * parentheses, string literals with '' escapes, numbers, booleans, null and unquoted ISO dates.
 * Enough for every expression the client sends, strict enough that a malformed or injected filter
 * is a 400, as the service answers.
 */

type Literal = string | number | boolean | null | { date: number }
type Node =
  | { op: 'and' | 'or'; left: Node; right: Node }
  | { op: 'not'; operand: Node }
  | { op: 'cmp'; cmp: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; field: string; value: Literal }

export class FilterSyntaxError extends Error {}

type Token = { kind: 'str'; v: string } | { kind: 'word'; v: string } | { kind: 'lp' } | { kind: 'rp' }

function tokenize(text: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (c === ' ') {
      i++
    } else if (c === '(') {
      out.push({ kind: 'lp' })
      i++
    } else if (c === ')') {
      out.push({ kind: 'rp' })
      i++
    } else if (c === "'") {
      let v = ''
      i++
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError('unterminated string literal')
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            v += "'"
            i += 2
            continue
          }
          i++
          break
        }
        v += text[i]
        i++
      }
      out.push({ kind: 'str', v })
    } else {
      const m = /^[A-Za-z0-9_./:+-]+/.exec(text.slice(i))
      if (!m) throw new FilterSyntaxError(`unexpected character '${c}' at ${i}`)
      out.push({ kind: 'word', v: m[0] })
      i += m[0].length
    }
  }
  return out
}

const CMP = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le'])

export function parseFilter(text: string): Node {
  const tokens = tokenize(text)
  let pos = 0
  const peek = (): Token | undefined => tokens[pos]
  const word = (t: Token | undefined, v: string): boolean => t?.kind === 'word' && t.v.toLowerCase() === v

  function literal(t: Token | undefined): Literal {
    if (t === undefined) throw new FilterSyntaxError('expected a value')
    if (t.kind === 'str') return t.v
    if (t.kind !== 'word') throw new FilterSyntaxError('expected a value')
    if (t.v === 'true') return true
    if (t.v === 'false') return false
    if (t.v === 'null') return null
    if (/^-?\d+(\.\d+)?$/.test(t.v)) return Number(t.v)
    if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(t.v)) return { date: Date.parse(t.v) }
    throw new FilterSyntaxError(`'${t.v}' is not a literal`)
  }

  function primary(): Node {
    const t = peek()
    if (t?.kind === 'lp') {
      pos++
      const inner = or()
      if (peek()?.kind !== 'rp') throw new FilterSyntaxError('missing )')
      pos++
      return inner
    }
    if (word(t, 'not')) {
      pos++
      return { op: 'not', operand: primary() }
    }
    if (t?.kind !== 'word' || !/^[A-Za-z][A-Za-z0-9/]*$/.test(t.v))
      throw new FilterSyntaxError('expected a property name')
    pos++
    const op = peek()
    if (op?.kind !== 'word' || !CMP.has(op.v))
      throw new FilterSyntaxError(`expected a comparison after '${t.v}'`)
    pos++
    const value = literal(peek())
    pos++
    return { op: 'cmp', cmp: op.v as 'eq', field: t.v, value }
  }
  function and(): Node {
    let left = primary()
    while (word(peek(), 'and')) {
      pos++
      left = { op: 'and', left, right: primary() }
    }
    return left
  }
  function or(): Node {
    let left = and()
    while (word(peek(), 'or')) {
      pos++
      left = { op: 'or', left, right: and() }
    }
    return left
  }
  const node = or()
  if (pos !== tokens.length) throw new FilterSyntaxError('unexpected text after the expression')
  return node
}

function read(entity: Record<string, unknown>, path: string): unknown {
  let v: unknown = entity
  for (const part of path.split('/'))
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined
  return v
}

function compare(actual: unknown, cmp: string, expected: Literal): boolean {
  let a: unknown = actual
  let e: unknown = expected
  if (typeof expected === 'object' && expected !== null) {
    a = typeof actual === 'string' ? Date.parse(actual) : Number.NaN
    e = expected.date
  }
  switch (cmp) {
    case 'eq':
      return a === e
    case 'ne':
      return a !== e
    case 'gt':
      return (a as number) > (e as number)
    case 'ge':
      return (a as number) >= (e as number)
    case 'lt':
      return (a as number) < (e as number)
    default:
      return (a as number) <= (e as number)
  }
}

export function evaluate(node: Node, entity: Record<string, unknown>): boolean {
  switch (node.op) {
    case 'and':
      return evaluate(node.left, entity) && evaluate(node.right, entity)
    case 'or':
      return evaluate(node.left, entity) || evaluate(node.right, entity)
    case 'not':
      return !evaluate(node.operand, entity)
    default:
      return compare(read(entity, node.field), node.cmp, node.value)
  }
}

export function fieldsOf(node: Node): string[] {
  if (node.op === 'cmp') return [node.field]
  if (node.op === 'not') return fieldsOf(node.operand)
  return [...fieldsOf(node.left), ...fieldsOf(node.right)]
}
