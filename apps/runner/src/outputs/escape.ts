/**
 * Every value a human reads in the Markdown report or the terminal table goes through `escapeField`.
 * The values come from the tenant (display names, UPNs, risk event types, Graph's error text), so an
 * attacker who can rename an account chooses them: a UPN must not forge a table row, a link, raw HTML
 * or a terminal escape sequence that rewrites the lines a reviewer sees.
 */
import { redactText } from '@tourniquet/core'

export type FieldTarget = 'markdown' | 'terminal'

/**
 * C0 and C1 controls (ESC starts terminal sequences; CR and LF end a row), DEL, the line and
 * paragraph separators, and the bidirectional overrides that make text display in another order.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Characters with a meaning in Markdown (tables, emphasis, code, links, headings) or its HTML. */
const MARKDOWN = /[\\`*_[\]{}()<>#+!|~&]/g
const HTML_ENTITY: Readonly<Record<string, string>> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' }

/**
 * One field made safe to interpolate. The sanitizer runs first: escaping inserts characters into the
 * text, so a secret's shape (or a registered value) would no longer match afterwards. Controls become
 * U+FFFD in both targets; Markdown and HTML metacharacters are escaped only in the report.
 */
export function escapeField(value: string | null | undefined, target: FieldTarget): string {
  const text = redactText(value ?? '').replace(CONTROL, '\uFFFD')
  if (target === 'terminal') return text
  return text.replace(MARKDOWN, (c) => HTML_ENTITY[c] ?? `\\${c}`)
}
