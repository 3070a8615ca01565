import { parsePolicy, requiredPermissions } from '@tourniquet/policy'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../src/settings.js'
import { base, CLOUD_ONLY, type Deployed, deploy, ofType } from './deploy.js'

describe('the permissions granted follow the policy', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(parseSettings({ ...base, authMode: 'secret' }), { policyText: CLOUD_ONLY })
  })

  it('grants what this policy needs and nothing it does not', () => {
    expect(d.outputs.grantedPermissions).toEqual(requiredPermissions(parsePolicy(CLOUD_ONLY)))
    expect(d.outputs.grantedPermissions).toEqual([
      'IdentityRiskEvent.Read.All',
      'IdentityRiskyUser.Read.All',
      'User.EnableDisableAccount.All',
      'User.Read.All',
      'User.RevokeSessions.All',
    ])
    const names = ofType(d.mocks, 'azuread:index/appRoleAssignment:AppRoleAssignment').map((a) => a.name)
    expect(names.some((n) => n.includes('SecurityIdentities'))).toBe(false)
    expect(names.some((n) => n.includes('GroupMember'))).toBe(false)
    expect(d.outputs.directoryRolesToAssign).toEqual([])
  })
})

const WORKLOAD = `${CLOUD_ONLY}servicePrincipals:
  rules:
    - name: risky-app
      when: { riskLevel: [high] }
      then: [confirmCompromised, disable]
`

describe('the permissions granted follow the servicePrincipals section', () => {
  it('adds the workload reads and writes its actions need, and no more', async () => {
    const d = await deploy(parseSettings({ ...base, authMode: 'secret' }), { policyText: WORKLOAD })
    expect(d.outputs.grantedPermissions).toEqual(requiredPermissions(parsePolicy(WORKLOAD)))
    expect(d.outputs.grantedPermissions).toEqual([
      'Application.Read.All',
      'Application.ReadWrite.All',
      'IdentityRiskEvent.Read.All',
      'IdentityRiskyServicePrincipal.Read.All',
      'IdentityRiskyServicePrincipal.ReadWrite.All',
      'IdentityRiskyUser.Read.All',
      'User.EnableDisableAccount.All',
      'User.Read.All',
      'User.RevokeSessions.All',
    ])
  })

  it('a read-and-dismiss section does not get Application.ReadWrite.All', async () => {
    const policy = `${CLOUD_ONLY}servicePrincipals:\n  rules:\n    - name: r\n      when: {}\n      then: [dismissRisk]\n`
    const d = await deploy(parseSettings({ ...base, authMode: 'secret' }), { policyText: policy })
    expect(d.outputs.grantedPermissions).not.toContain('Application.ReadWrite.All')
    expect(d.outputs.grantedPermissions).toContain('IdentityRiskyServicePrincipal.ReadWrite.All')
  })
})
