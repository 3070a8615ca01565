/**
 * The engine in-process against the fake tenant: the mock served on loopback HTTPS in this process,
 * a real Graph client trusting its CA, an in-memory ledger, and the audit caught in memory. The mock
 * runs 50x faster than Graph and the client's budgets match, so a run takes milliseconds.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { GraphClient } from '@tourniquet/core'
import {
  createMockGraph,
  DEFAULT_TENANT_ID,
  type MockGraph,
  type MockGraphOptions,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
  type RunningMock,
  serveMock,
} from '@tourniquet/mock-graph'
import { type RunOptions, type RunResult, runJob } from '../../src/commands/run.js'
import { clientFromConfig, credentialFor } from '../../src/engine/client.js'
import { loadConfig, type RunnerConfig } from '../../src/env.js'

export const SCALE = 50

/**
 * High-risk members are confirmed, revoked and disabled; medium-risk members (cloud or synced) get a
 * password reset: Identity Protection, `$batch` and single calls, Entra and Defender for Identity.
 */
export const WIDE_POLICY = `version: 1
lookback: PT48H
limits:
  maxActionsPerRun: 100000
rules:
  - name: high
    when: { riskLevel: [high], userType: [member] }
    then: [confirmCompromised, revokeSessions, disable]
  - name: medium
    when: { riskLevel: [medium], userType: [member] }
    then: [forcePasswordReset]
`

export { MemoryLedger } from '../../src/ledger/memoryLedger.js'

/** A stream that keeps what was written, as text and as parsed JSON lines. */
export class Sink extends Writable {
  text = ''
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
  lines(): Array<Record<string, unknown>> {
    return this.text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  }
}

export class InProcessTenant {
  private constructor(
    readonly mock: MockGraph,
    readonly server: RunningMock,
    readonly dir: string,
    readonly config: RunnerConfig,
    readonly client: GraphClient,
  ) {}

  /** `app`: sign in as another registered app (the workload-identity tests use the one with their roles). */
  static async start(
    options: MockGraphOptions,
    policy = WIDE_POLICY,
    app = { id: REMEDIATION_APP_ID, secret: REMEDIATION_APP_SECRET },
  ): Promise<InProcessTenant> {
    const mock = createMockGraph({ timeScale: SCALE, ...options })
    const server = await serveMock(mock)
    const dir = await mkdtemp(join(tmpdir(), 'tq-engine-'))
    await writeFile(join(dir, 'policy.yaml'), policy)
    const config = loadConfig(
      {},
      {
        AZURE_TENANT_ID: DEFAULT_TENANT_ID,
        AZURE_CLIENT_ID: app.id,
        AZURE_CLIENT_SECRET: app.secret,
        AZURE_AUTHORITY_HOST: server.url,
        TOURNIQUET_GRAPH_URL: server.url,
        TOURNIQUET_POLICY: join(dir, 'policy.yaml'),
        TOURNIQUET_LEDGER: join(dir, 'ledger.jsonl'),
        TOURNIQUET_IDENTITY_PROTECTION_RPS: String(SCALE * 0.95),
        TOURNIQUET_DIRECTORY_WRITE_RPS: String(20 * SCALE),
      },
    )
    const client = clientFromConfig(config, await credentialFor(config), { ca: server.caPem })
    return new InProcessTenant(mock, server, dir, config, client)
  }

  /** One run in this process; the audit trail is returned with the result. */
  async run(
    mode: 'plan' | 'apply',
    options: Partial<RunOptions> = {},
  ): Promise<RunResult & { out: Sink; err: Sink; lines: Array<Record<string, unknown>> }> {
    const out = new Sink()
    const err = new Sink()
    const result = await runJob({
      config: { ...this.config, mode },
      client: this.client,
      out,
      err,
      verify: { delayMs: 10 },
      ...options,
    })
    return { ...result, out, err, lines: out.lines() }
  }

  async stop(): Promise<void> {
    await this.client.close()
    await this.server.close()
    await rm(this.dir, { recursive: true, force: true })
  }
}
