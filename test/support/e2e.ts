/**
 * End-to-end wiring: the fake tenant on loopback HTTPS in this process, and the built CLI as a
 * child process trusting its CA through NODE_EXTRA_CA_CERTS, exactly as the container runs it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  type LoopbackPki,
  type MockGraph,
  type MockGraphOptions,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
  type RunningMock,
  serveMock,
} from '@tourniquet/mock-graph'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const CLI = join(ROOT, 'apps', 'runner', 'dist', 'cli.js')
export const EXAMPLE_POLICY = join(ROOT, 'examples', 'policy.yaml')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON lines. */
  lines: Array<Record<string, unknown>>
  steps: Array<Record<string, unknown>>
  summary: Record<string, unknown> | undefined
}

export class Tenant {
  mock!: MockGraph
  server!: RunningMock
  dir!: string

  /** `pki`: serve with this CA and certificate (to share them with another loopback service). */
  static async start(options: MockGraphOptions = { scenario: 'demo' }, pki?: LoopbackPki): Promise<Tenant> {
    const t = new Tenant()
    t.mock = createMockGraph(options)
    t.server = await serveMock(t.mock, pki ? { pki } : {})
    t.dir = await mkdtemp(join(tmpdir(), 'tq-e2e-'))
    await writeFile(join(t.dir, 'ca.pem'), t.server.caPem ?? '')
    return t
  }

  env(extra: Record<string, string | undefined> = {}): Record<string, string> {
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      NODE_EXTRA_CA_CERTS: join(this.dir, 'ca.pem'),
      AZURE_TENANT_ID: DEFAULT_TENANT_ID,
      AZURE_CLIENT_ID: REMEDIATION_APP_ID,
      AZURE_CLIENT_SECRET: REMEDIATION_APP_SECRET,
      AZURE_AUTHORITY_HOST: this.server.url,
      TOURNIQUET_GRAPH_URL: this.server.url,
      TOURNIQUET_POLICY: EXAMPLE_POLICY,
      TOURNIQUET_LEDGER: join(this.dir, 'ledger.jsonl'),
      ...extra,
    }
    return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
  }

  async stop(): Promise<void> {
    await this.server.close()
    await rm(this.dir, { recursive: true, force: true })
  }
}

export function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  return new Promise((resolvePromise) => {
    child.on('close', (code, signal) => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>
          } catch {
            return { unparsable: l }
          }
        })
      resolvePromise({
        code,
        signal,
        stdout,
        stderr,
        lines,
        steps: lines.filter((l) => l.event === 'step'),
        summary: lines.findLast((l) => l.event === 'summary'),
      })
    })
  })
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return collect(spawnCli(args, env))
}

/**
 * A policy without tight limits (a large tenant's plan is not refused): high-risk members are
 * confirmed, revoked and disabled; medium-risk cloud members get a password reset.
 */
export async function widePolicy(t: Tenant): Promise<string> {
  const path = join(t.dir, 'wide.yaml')
  await writeFile(
    path,
    'version: 1\nlookback: PT48H\nlimits:\n  maxActionsPerRun: 100000\nrules:\n  - name: high\n    when: { riskLevel: [high], userType: [member] }\n    then: [confirmCompromised, revokeSessions, disable]\n  - name: medium\n    when: { riskLevel: [medium], userType: [member], synced: false }\n    then: [forcePasswordReset]\n',
  )
  return path
}
