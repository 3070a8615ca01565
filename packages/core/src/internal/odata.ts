/**
 * OData $filter building. Every value goes through a literal formatter (strings are quoted with
 * `'` doubled), and field names are checked, so no caller concatenates user data into a filter.
 */

const FIELD = /^[A-Za-z][A-Za-z0-9]*(\/[A-Za-z][A-Za-z0-9]*)*$/

export type ODataLiteral = string | number | boolean | Date

const brand = Symbol('ODataFilter')

/** A filter expression that can only be produced by the builder functions below. */
export interface ODataFilter {
  readonly [brand]: true
  readonly text: string
}

function make(text: string): ODataFilter {
  return { [brand]: true, text }
}

function field(name: string): string {
  if (!FIELD.test(name)) throw new TypeError(`'${name}' is not a valid OData property path`)
  return name
}

export function literal(value: ODataLiteral): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('invalid date in OData filter')
    return value.toISOString()
  }
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number in OData filter')
    return String(value)
  }
  return value ? 'true' : 'false'
}

export const eq = (name: string, value: ODataLiteral): ODataFilter =>
  make(`${field(name)} eq ${literal(value)}`)
export const ge = (name: string, value: ODataLiteral): ODataFilter =>
  make(`${field(name)} ge ${literal(value)}`)
/** Strictly after: the only ordering operator Microsoft ever listed for `riskLastUpdatedDateTime` (eq, gt, lt). */
export const gt = (name: string, value: ODataLiteral): ODataFilter =>
  make(`${field(name)} gt ${literal(value)}`)
export const le = (name: string, value: ODataLiteral): ODataFilter =>
  make(`${field(name)} le ${literal(value)}`)

export function and(...parts: Array<ODataFilter | undefined>): ODataFilter | undefined {
  const present = parts.filter((p): p is ODataFilter => p !== undefined)
  if (present.length === 0) return undefined
  if (present.length === 1) return present[0]
  return make(present.map((p) => `(${p.text})`).join(' and '))
}

export function or(...parts: Array<ODataFilter | undefined>): ODataFilter | undefined {
  const present = parts.filter((p): p is ODataFilter => p !== undefined)
  if (present.length === 0) return undefined
  if (present.length === 1) return present[0]
  return make(present.map((p) => `(${p.text})`).join(' or '))
}

/** `name eq v1 or name eq v2 ...`; undefined for an empty list (no condition). */
export function anyOf(name: string, values: readonly ODataLiteral[] | undefined): ODataFilter | undefined {
  if (values === undefined || values.length === 0) return undefined
  return or(...values.map((v) => eq(name, v)))
}
