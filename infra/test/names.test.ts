import { describe, expect, it } from 'vitest'
import { globalName, NAME_RULES, nameProblem, scopedName, stackSlug } from '../src/names.js'

// Rules: azure-docs articles/azure-resource-manager/management/resource-name-rules.md (Microsoft.App,
// Microsoft.KeyVault, Microsoft.Storage, Microsoft.ManagedIdentity, Microsoft.OperationalInsights).
const FORTY = 'Platform_Security.Tourniquet-Production42' // 41 characters of Pulumi-legal stack name
const STACKS = ['dev', 'prod', 'Prod_EU.2', FORTY.slice(0, 40), '__', 'a.b_c-d', 'UPPER']

describe('names built from any Pulumi stack name', () => {
  it('the Container Apps job rule: 2-32 lowercase letters, digits, hyphens, starts with a letter, no "--"', () => {
    expect(nameProblem('job', 'tq-prod-runner')).toBeUndefined()
    for (const bad of [
      'tq-Prod_EU.2-runner',
      'tq--runner',
      '1tq-runner',
      'tq-runner-',
      `tq-${'x'.repeat(30)}`,
    ])
      expect(nameProblem('job', bad)).toMatch(/not a Container Apps job name/)
  })

  it('the Container App (watcher) rule: 2-32 lowercase letters, digits, hyphens, starts with a letter', () => {
    expect(nameProblem('containerApp', 'tq-prod-watch')).toBeUndefined()
    for (const bad of ['tq-Prod-watch', 'tq--watch', '1tq-watch', 'tq-watch-', `tq-${'x'.repeat(30)}`])
      expect(nameProblem('containerApp', bad)).toMatch(/not a Container App name/)
  })

  it.each(STACKS)('stack %j gives valid job, watcher, environment, workspace and identity names', (stack) => {
    for (const [kind, suffix] of [
      ['job', 'runner'],
      ['containerApp', 'watch'],
      ['environment', 'env'],
      ['workspace', 'logs'],
      ['identity', 'job'],
    ] as const) {
      for (const prefix of ['tq', 'contosoabc']) {
        const name = scopedName(kind, prefix, stack, suffix)
        expect(nameProblem(kind, name), `${kind} ${name}`).toBeUndefined()
        expect(name.length).toBeLessThanOrEqual(NAME_RULES[kind].max)
      }
    }
  })

  it('sanitizes capitals, "_" and "." and keeps stacks that sanitize alike apart', () => {
    expect(stackSlug('Prod_EU.2')).toBe('prod-eu-2')
    expect(scopedName('job', 'tq', 'prod-eu-2', 'runner')).toBe('tq-prod-eu-2-runner')
    const sanitized = scopedName('job', 'tq', 'Prod_EU.2', 'runner')
    expect(sanitized).toMatch(/^tq-prod-eu-2-[a-z0-9]{4}-runner$/)
    expect(sanitized).not.toBe('tq-prod-eu-2-runner')
  })

  it('a 40-character stack name is cut to fit 32 characters, and two long names stay distinct', () => {
    const a = scopedName('job', 'tq', FORTY.slice(0, 40), 'runner')
    const b = scopedName('job', 'tq', `${FORTY.slice(0, 39)}X`, 'runner')
    expect(a.length).toBeLessThanOrEqual(32)
    expect(a).not.toBe(b)
  })
})

describe('global names (Key Vault, storage account)', () => {
  const sub1 = '11111111-0000-4000-a000-000000000001'
  const sub2 = '22222222-0000-4000-a000-000000000002'

  it('two adopters with the same stack name in different subscriptions get different names', () => {
    // Before: a hash of prefix + kind + stack only, so every `pulumi stack init prod` collided.
    expect(globalName('vault', 'tq', sub1, 'tq-prod3f9a1c2e')).not.toBe(
      globalName('vault', 'tq', sub2, 'tq-prod3f9a1c2e'),
    )
    expect(globalName('storage', 'tq', sub1, 'tq-prod3f9a1c2e')).not.toBe(
      globalName('storage', 'tq', sub2, 'tq-prod3f9a1c2e'),
    )
  })

  it('a new resource group (destroy then up: a new auto-name suffix) gives a new vault name', () => {
    expect(globalName('vault', 'tq', sub1, 'tq-prod3f9a1c2e')).not.toBe(
      globalName('vault', 'tq', sub1, 'tq-prod77b0d4aa'),
    )
  })

  it('is stable for one deployment and follows the Key Vault and storage rules (3-24 characters)', () => {
    expect(globalName('vault', 'tq', sub1, 'rg')).toBe(globalName('vault', 'tq', sub1, 'rg'))
    for (const prefix of ['tq', 'contosoabc']) {
      const vault = globalName('vault', prefix, sub1, 'Some_Group.(1)')
      const account = globalName('storage', prefix, sub1, 'Some_Group.(1)')
      expect(nameProblem('vault', vault)).toBeUndefined()
      expect(nameProblem('storage', account)).toBeUndefined()
      expect(vault).toHaveLength(24)
      expect(account).toHaveLength(24)
    }
  })
})
