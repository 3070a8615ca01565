/** `tourniquet policy test <path>`: finds case files, loads their policies, runs and reports. */
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { type CaseFileResult, parseCaseFile, runCaseFile } from './cases.js'
import { PolicyError } from './errors.js'
import { parsePolicy } from './load.js'
import type { Policy } from './schema.js'

const CASE_FILE = /\.cases\.(ya?ml|json)$/

async function findCaseFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined)
  if (!info) {
    throw new PolicyError([
      {
        file: path,
        line: undefined,
        column: undefined,
        path: '(path)',
        message: 'no such file or directory',
      },
    ])
  }
  if (info.isFile()) return [path]
  const out: string[] = []
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const full = join(path, entry.name)
    if (entry.isDirectory()) out.push(...(await findCaseFiles(full)))
    else if (CASE_FILE.test(entry.name)) out.push(full)
  }
  return out.sort()
}

/** Reads and validates a policy file; `name` is how errors refer to it (default: the path). */
export async function loadPolicyFile(path: string, name = path): Promise<Policy> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new PolicyError([
      {
        file: name,
        line: undefined,
        column: undefined,
        path: '(file)',
        message: e.code === 'ENOENT' ? 'no such file' : `cannot be read (${e.code})`,
      },
    ])
  })
  return parsePolicy(text, name)
}

export interface PolicyTestReport {
  files: CaseFileResult[]
  passed: number
  failed: number
}

export async function runPolicyTests(path: string, cwd = process.cwd()): Promise<PolicyTestReport> {
  const files = await findCaseFiles(resolve(cwd, path))
  if (files.length === 0) {
    throw new PolicyError([
      {
        file: path,
        line: undefined,
        column: undefined,
        path: '(path)',
        message: 'no case files (*.cases.yaml) found',
      },
    ])
  }
  const report: PolicyTestReport = { files: [], passed: 0, failed: 0 }
  for (const file of files) {
    const caseFile = parseCaseFile(await readFile(file, 'utf8'), relative(cwd, file))
    const policyPath = resolve(dirname(file), caseFile.policy ?? 'policy.yaml')
    const policy = await loadPolicyFile(policyPath, relative(cwd, policyPath))
    const result = runCaseFile(policy, caseFile, relative(cwd, file), relative(cwd, policyPath))
    report.files.push(result)
    for (const r of result.results) r.passed ? report.passed++ : report.failed++
  }
  return report
}

export function formatPolicyTestReport(report: PolicyTestReport): string {
  const lines: string[] = []
  for (const f of report.files) {
    lines.push(`${f.file} (policy ${f.policyFile})`)
    for (const r of f.results) {
      lines.push(`  ${r.passed ? 'pass' : 'FAIL'}  ${r.name}`)
      for (const d of r.diff) lines.push(`        ${d}`)
    }
    const covered = f.ruleCount - f.unmatchedRules.length
    lines.push(
      `  coverage: ${covered}/${f.ruleCount} rules matched by a case${f.unmatchedRules.length > 0 ? `; never matched: ${f.unmatchedRules.join(', ')}` : ''}`,
    )
  }
  lines.push(`${report.passed} passed, ${report.failed} failed`)
  return lines.join('\n')
}
