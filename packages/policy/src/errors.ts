const BRAND = Symbol.for('tourniquet.policy.error')

export interface PolicyIssue {
  file: string
  /** 1-based; undefined when the place cannot be pointed at (an empty file, say). */
  line: number | undefined
  column: number | undefined
  /** Path in the document, e.g. `rules[2].then[1]`. */
  path: string
  message: string
}

/** A policy or case file that cannot be used; every issue names the file, line, path and what was expected. */
export class PolicyError extends Error {
  readonly code = 'TQ_POLICY'
  readonly issues: PolicyIssue[]
  readonly [BRAND] = true

  constructor(issues: PolicyIssue[]) {
    super(issues.map(formatIssue).join('\n'))
    this.name = 'PolicyError'
    this.issues = issues
  }
}

export function formatIssue(i: PolicyIssue): string {
  const at =
    i.line === undefined ? i.file : `${i.file}:${i.line}${i.column === undefined ? '' : `:${i.column}`}`
  return `${at} ${i.path}: ${i.message}`
}

export const isPolicyError = (e: unknown): e is PolicyError =>
  typeof e === 'object' && e !== null && BRAND in e
