import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AuthError, DeadlineError } from '@tourniquet/core'
import { generateTenant } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { isRunnerError, LedgerCorruptError, NoOutcomeError, SettingsError } from '../src/errors.js'
import { EXIT } from '../src/exit.js'
import { failureMessage, failureOf, withAdvice } from '../src/failures.js'
import { FileLedger } from '../src/ledger/fileLedger.js'
import { InProcessTenant } from './support/tenant.js'

describe('runner errors: one base, stable codes, one code -> ending table', () => {
  it('each runner error carries its code; the guard checks the brand and a known code, not instanceof', () => {
    expect(new SettingsError([{ variable: 'X', message: 'bad' }]).code).toBe('TQ_RUNNER_CONFIG')
    expect(new LedgerCorruptError('l.jsonl', 3).code).toBe('TQ_RUNNER_LEDGER_CORRUPT')
    expect(new NoOutcomeError('user').code).toBe('TQ_RUNNER_NO_OUTCOME')
    const brand = Symbol.for('tourniquet.runner.error')
    // What a second copy of the package would throw: same brand, not the same class.
    expect(isRunnerError({ [brand]: true, code: 'TQ_RUNNER_CONFIG', message: 'm' })).toBe(true)
    expect(isRunnerError({ [brand]: true, code: 'TQ_SOMETHING_ELSE' })).toBe(false)
    expect(isRunnerError(Object.assign(new Error('m'), { code: 'TQ_RUNNER_CONFIG' }))).toBe(false)
  })

  it('configuration and authentication end with exit 2, anything else fails the run with exit 1', () => {
    const config = failureOf(new SettingsError([{ variable: 'AZURE_CLIENT_CERTIFICATE_PATH', message: 'x' }]))
    expect(config).toMatchObject({ kind: 'configuration', exitCode: EXIT.configuration })
    const auth = failureOf(new AuthError('expired', { aadsts: 'AADSTS7000222', advice: 'rotate it' }))
    expect(auth).toMatchObject({ kind: 'authentication', exitCode: EXIT.configuration })
    expect(failureOf(new DeadlineError('late'))).toMatchObject({ kind: 'run', exitCode: EXIT.stepsFailed })
    expect(failureOf(new LedgerCorruptError('l', 1))).toMatchObject({
      kind: 'run',
      exitCode: EXIT.stepsFailed,
    })
    expect(failureOf(new Error('boom'))).toMatchObject({ kind: 'run', outcome: 'failed' })
  })

  it('the deadline: a failed run (exit 1) whose line says to raise TOURNIQUET_MAX_RUNTIME, with the code', () => {
    const e = new DeadlineError('riskyUsers.list: the deadline has passed; not sent')
    const failure = failureOf(e)
    expect(failure).toMatchObject({ kind: 'run', outcome: 'failed', exitCode: EXIT.stepsFailed })
    expect(failure.note).toMatch(/stopped at its deadline; raise TOURNIQUET_MAX_RUNTIME/)
    expect(failureMessage(e, failure)).toMatch(/^TQ_DEADLINE: riskyUsers\.list: /)
  })

  it("one table of advice in the runner's terms: core's message, then which setting to change", () => {
    expect(withAdvice(new DeadlineError('users.get: the deadline has passed; not sent'))).toBe(
      'users.get: the deadline has passed; not sent (raise TOURNIQUET_MAX_RUNTIME if the tenant needs longer)',
    )
    const expired = new AuthError('the client secret has expired', { aadsts: '7000222', advice: 'x' })
    expect(withAdvice(expired)).toMatch(/expired \(rotate it with `pulumi up`/)
    expect(failureMessage(expired, failureOf(expired))).toMatch(/rotate it with `pulumi up`/)
    const noCode = new AuthError('no token', { aadsts: undefined, advice: 'x' })
    expect(withAdvice(noCode)).toMatch(/check AZURE_TENANT_ID, AZURE_CLIENT_ID/)
    const clock = new AuthError('check the machine clock', { aadsts: '700024', advice: 'x' })
    expect(withAdvice(clock)).toBe('check the machine clock')
    expect(withAdvice(new Error('boom'))).toBe('boom')
  })
})

describe('a run that meets an error', () => {
  let t: InProcessTenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('a corrupt ledger: exit 1, the line named, nothing done', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 10, seed: 16, highShare: 1 }) })
    const path = join(t.dir, 'ledger.jsonl')
    await writeFile(path, 'not json\n{"runId":"r"}\n')
    const r = await t.run('apply', { ledger: new FileLedger(path) })
    expect(r.exitCode).toBe(EXIT.stepsFailed)
    expect(r.lines.find((l) => l.event === 'error')).toMatchObject({
      kind: 'run',
      message: `${path}: line 1 of the ledger is not JSON; refusing to guess what was done`,
    })
    expect(r.lines.at(-1)).toMatchObject({ event: 'summary', outcome: 'failed', exitCode: 1 })
    expect(r.err.text).toMatch(/^tourniquet: the run failed: /m)
    expect(t.mock.tenant.actions).toEqual([])
  })

  it('an unreadable certificate: exit 2 naming AZURE_CLIENT_CERTIFICATE_PATH, no request sent', async () => {
    t = await InProcessTenant.start({ tenant: generateTenant({ riskyUsers: 5, seed: 17 }) })
    const missing = join(t.dir, 'missing.pem')
    const r = await t.run('plan', {
      client: undefined,
      config: { ...t.config, mode: 'plan', credential: { kind: 'certificate', path: missing } },
    })
    expect(r.exitCode).toBe(EXIT.configuration)
    expect(r.lines.find((l) => l.event === 'error')).toMatchObject({
      kind: 'configuration',
      message: expect.stringMatching(
        /^AZURE_CLIENT_CERTIFICATE_PATH: .*missing\.pem cannot be read \(ENOENT\)/,
      ),
    })
    expect(r.lines.at(-1)).toMatchObject({ outcome: 'configuration error: nothing done' })
    expect(t.mock.log.filter((l) => l.path.startsWith('/v1.0/'))).toEqual([])
  })
})
