import { beforeAll, describe, expect, it } from 'vitest'
import { parseSettings } from '../src/settings.js'
import { base, type Deployed, deploy, ofType, one } from './deploy.js'

// azure-docs articles/role-based-access-control/troubleshooting.md: a new role assignment can take
// minutes to apply; Container Apps resolves Key Vault references and registry credentials when the
// job is created. The job waits rbacPropagationSeconds after the newest role assignment.
describe('a first deployment: role assignments created just now', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(parseSettings({ ...base, authMode: 'secret', rbacPropagationSeconds: '2' }), {
      mocks: { roleAssignmentCreatedOn: 'now' },
    })
  })

  it('creates the job only after the propagation wait, after every role assignment and the secret', () => {
    const roles = ofType(d.mocks, 'azure-native:authorization:RoleAssignment')
    expect(roles).toHaveLength(5)
    const job = one(d.mocks, 'azure-native:app:Job')
    const lastRole = Math.max(...roles.map((r) => r.at))
    expect(job.at).toBeGreaterThanOrEqual(lastRole)
    expect(job.at).toBeGreaterThanOrEqual(one(d.mocks, 'azure-native:keyvault:Secret').at)
    // Each assignment's createdOn is the moment the mock created it; the job waited 2 s after the newest.
    expect(job.at - lastRole).toBeGreaterThanOrEqual(1_900)
  })
})
