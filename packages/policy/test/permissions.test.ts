import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  apiNeeds,
  parsePolicy,
  permissionReport,
  policyJsonSchema,
  requiredPermissions,
} from '../src/index.js'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const p = (rules: string, extra = '') => parsePolicy(`version: 1\nlookback: PT24H\n${extra}rules:\n${rules}`)

describe('requiredPermissions', () => {
  it('a read-only policy needs only reads (dismissRisk aside)', () => {
    // Read.All as well: the riskyUser read pages list no higher-privileged alternative.
    expect(requiredPermissions(p('  - name: a\n    when: {}\n    then: [dismissRisk]\n'))).toEqual([
      'IdentityRiskEvent.Read.All',
      'IdentityRiskyUser.Read.All',
      'IdentityRiskyUser.ReadWrite.All',
      'User.Read.All',
    ])
  })
  it('the example policy: exactly what its actions route to', () => {
    const policy = parsePolicy(readFileSync(join(ROOT, 'examples', 'policy.yaml'), 'utf8'))
    const report = permissionReport(policy)
    expect(report.permissions).toEqual([
      'GroupMember.ReadBasic.All',
      'IdentityRiskEvent.Read.All',
      'IdentityRiskyUser.Read.All',
      'IdentityRiskyUser.ReadWrite.All',
      'SecurityIdentitiesAccount.Read.All',
      'SecurityIdentitiesActions.ReadWrite.All',
      'User-PasswordProfile.ReadWrite.All',
      'User.EnableDisableAccount.All',
      'User.Read.All',
      'User.RevokeSessions.All',
    ])
    expect(report.directoryRoles).toEqual(['User Administrator'])
    expect(report.reasons['User-PasswordProfile.ReadWrite.All']).toEqual([
      "rule 'leaked-credentials': forcePasswordReset (cloud users)",
    ])
  })
  it('changes with the policy: cloud-only rules need no Defender for Identity permissions', () => {
    const perms = requiredPermissions(
      p('  - name: a\n    when: { synced: false }\n    then: [disable, revokeSessions]\n'),
    )
    expect(perms).toContain('User.EnableDisableAccount.All')
    expect(perms.some((x) => x.startsWith('SecurityIdentities'))).toBe(false)
  })
  it('synced-only disable needs Defender for Identity, not Entra enable/disable', () => {
    const perms = requiredPermissions(p('  - name: a\n    when: { synced: true }\n    then: [disable]\n'))
    expect(perms).toContain('SecurityIdentitiesActions.ReadWrite.All')
    expect(perms).not.toContain('User.EnableDisableAccount.All')
  })
  it('guest-only revoke needs no revoke permission (it has no effect on guests)', () => {
    expect(
      requiredPermissions(p('  - name: a\n    when: { userType: [guest] }\n    then: [revokeSessions]\n')),
    ).not.toContain('User.RevokeSessions.All')
  })
  it('exclusion groups need GroupMember.ReadBasic.All (least privileged for transitiveMembers)', () => {
    expect(
      requiredPermissions(
        p(
          '  - name: a\n    when: {}\n    then: [revokeSessions]\n',
          'exclude:\n  groups: [2b7e0000-0000-4000-a000-000000000001]\n',
        ),
      ),
    ).toContain('GroupMember.ReadBasic.All')
  })
})

describe('apiNeeds', () => {
  it('every policy reads Identity Protection and the directory', () => {
    const needs = apiNeeds(p('  - name: a\n    when: {}\n    then: [revokeSessions]\n'))
    expect(needs.map((n) => [n.api, n.otherRoute])).toEqual([
      ['identityProtection', false],
      ['directory', false],
    ])
  })
  it('a synced-only disable has no other route; a rule over all members has the Entra one', () => {
    const synced = apiNeeds(
      p('  - name: a\n    when: { synced: true }\n    then: [disable, revokeSessions]\n'),
    )
    expect(synced.filter((n) => n.api === 'defenderForIdentity')).toEqual([
      {
        api: 'defenderForIdentity',
        why: "rule 'a': disable of users synced from on-premises AD",
        otherRoute: false,
      },
    ])
    const both = apiNeeds(p('  - name: b\n    when: {}\n    then: [forcePasswordReset]\n'))
    expect(both.find((n) => n.api === 'defenderForIdentity')?.otherRoute).toBe(true)
    const cloudOnly = apiNeeds(p('  - name: c\n    when: { synced: false }\n    then: [disable]\n'))
    expect(cloudOnly.some((n) => n.api === 'defenderForIdentity')).toBe(false)
  })
})

describe('JSON Schema', () => {
  it('the committed policy.schema.json matches the zod schema (run scripts/write-schema.mjs after a change)', () => {
    const committed = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'policy.schema.json'), 'utf8'))
    expect(committed).toEqual(policyJsonSchema())
  })
  it('describes rules and actions for editors', () => {
    const schema = JSON.stringify(policyJsonSchema())
    expect(schema).toContain('"rules"')
    expect(schema).toContain('minDistinctSignals')
  })
})
