import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ROOT, runCli, Tenant } from '../support/e2e.js'

// The README's approval walkthrough, followed as written: its policy, its numbered steps and the
// commands they name are read from README.md, so the README cannot drift from what the CLI does.
const README = await readFile(join(ROOT, 'README.md'), 'utf8')
const section = README.slice(README.indexOf('### Approvals:'), README.indexOf('`pnpm demo` shows a request'))

/** The inline command a numbered step of the walkthrough starts with. */
function commandOfStep(n: number): string {
  const step = new RegExp(`^${n}\\. \`([^\`]+)\``, 'm').exec(section)
  if (!step?.[1]) throw new Error(`README approvals: step ${n} names no command`)
  return step[1]
}

/** A command line of the README as argv: placeholders filled, the chosen alternative kept, options in [] dropped. */
function argvOf(template: string, fill: Record<string, string>): string[] {
  const chosen = template
    .replace(/\s*\[[^\]]*\]/g, '')
    .replace(/\(([^)]*)\)/g, (_, alternatives: string) => alternatives.split('|')[0]?.trim() ?? '')
  const words = chosen.split(/\s+/).filter((w) => w !== '')
  expect(words[0]).toBe('tourniquet')
  return words.slice(1).map((w) => fill[w] ?? w)
}

describe('the README approval walkthrough, as written', () => {
  let t: Tenant | undefined
  afterEach(async () => {
    await t?.stop()
    t = undefined
  })

  it('its policy holds a guest disable for a person; the listed and approved step is sent by the next run, once', async () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]
    expect(yaml).toBeDefined()
    t = await Tenant.start({ scenario: 'demo' })
    const policy = join(t.dir, 'policy.yaml')
    // The README shows the policy's approval part: a policy file also names its version and lookback.
    await writeFile(policy, `version: 1\nlookback: PT48H\n${yaml}`)
    const env = t.env({ TOURNIQUET_POLICY: policy })
    const disables = () => (t as Tenant).mock.tenant.actions.filter((a) => a.kind === 'disable')

    // 1. A run (--apply) that plans such a step sends nothing for it, writes a request beside the ledger.
    const first = await runCli(['run', '--apply'], env)
    expect(first.code, first.stderr).toBe(0)
    const pending = first.steps.filter((s) => s.status === 'pendingApproval')
    expect(pending.map((s) => s.action)).toEqual(['disable'])
    const upn = String(pending[0]?.userPrincipalName)
    await expect(readFile(`${env.TOURNIQUET_LEDGER}.approvals.jsonl`, 'utf8')).resolves.toContain(upn)
    expect(disables()).toEqual([])

    // An approver: no app credential (the walkthrough says the trail commands need none).
    const person = { ...env }
    for (const name of ['AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT_ID']) delete person[name]

    // 2. `tourniquet approvals` lists what waits.
    const list = await runCli(argvOf(commandOfStep(2), {}), person)
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(upn)

    // 3. `tourniquet approve --run RUN_ID (--user UPN_OR_ID | --all) ...` records the decision.
    const runId = String(first.summary?.runId)
    const approve = await runCli(argvOf(commandOfStep(3), { RUN_ID: runId, UPN_OR_ID: upn }), person)
    expect(approve.code).toBe(0)

    // 4. The next run acts on the approved step, once: the ledger keeps it from being sent again.
    const second = await runCli(['run', '--apply'], env)
    expect(second.code).toBe(0)
    expect(disables().map((a) => a.userId)).toHaveLength(1)
    const third = await runCli(['run', '--apply'], env)
    expect(third.code).toBe(0)
    expect(disables()).toHaveLength(1)
  }, 60_000)
})
