import { describe, expect, it } from 'vitest'
import { apiAvailable, CLOUD_NAMES, cloudGaps, parsePolicy, permissionsIn } from '../src/index.js'

const HEAD = 'version: 1\nlookback: PT12H\nrules:\n'
const policy = (rules: string, extra = '') => parsePolicy(`${HEAD}${rules}${extra}`)
const CLOUD_ONLY = policy('  - name: cloud\n    when: { synced: false }\n    then: [disable]\n')
const SYNCED = policy('  - name: synced\n    when: { synced: true }\n    then: [disable]\n')
const BOTH = policy('  - name: both\n    when: {}\n    then: [disable]\n')
const WORKLOAD = policy(
  '  - name: cloud\n    when: { synced: false }\n    then: [disable]\n',
  'servicePrincipals:\n  rules:\n    - name: r\n      when: {}\n      then: [disable]\n',
)

describe('national clouds', () => {
  it('offers Identity Protection and its workload-identity APIs everywhere but China, Defender for Identity only in the global cloud, the directory everywhere', () => {
    const row = (api: Parameters<typeof apiAvailable>[0]) => CLOUD_NAMES.map((c) => apiAvailable(api, c))
    expect(CLOUD_NAMES).toEqual(['global', 'usgov', 'usgovdod', 'china'])
    expect(row('identityProtection')).toEqual([true, true, true, false])
    expect(row('workloadIdentityProtection')).toEqual([true, true, true, false])
    expect(row('defenderForIdentity')).toEqual([true, false, false, false])
    expect(row('directory')).toEqual([true, true, true, true])
  })

  it('cloudGaps: a policy of cloud users fits every cloud with Identity Protection, none in China', () => {
    expect(cloudGaps(CLOUD_ONLY, 'usgovdod')).toEqual([])
    expect(cloudGaps(CLOUD_ONLY, 'china').map((g) => g.api)).toEqual(['identityProtection'])
  })

  it('cloudGaps: Defender for Identity is a gap only for a rule with no route through Entra', () => {
    expect(cloudGaps(SYNCED, 'global')).toEqual([])
    expect(cloudGaps(SYNCED, 'usgov')).toEqual([
      {
        api: 'defenderForIdentity',
        why: "rule 'synced': disable of users synced from on-premises AD",
      },
    ])
    expect(cloudGaps(BOTH, 'usgov')).toEqual([])
  })

  it('cloudGaps: a servicePrincipals section needs the workload-identity API, which China lacks', () => {
    expect(cloudGaps(WORKLOAD, 'usgov')).toEqual([])
    expect(cloudGaps(WORKLOAD, 'china').map((g) => g.api)).toEqual([
      'identityProtection',
      'workloadIdentityProtection',
    ])
  })

  it('permissionsIn leaves out the permissions of APIs the cloud does not offer, and keeps the rest', () => {
    const all = [
      'IdentityRiskyUser.ReadWrite.All',
      'IdentityRiskyServicePrincipal.Read.All',
      'SecurityIdentitiesActions.ReadWrite.All',
      'User.EnableDisableAccount.All',
    ]
    expect(permissionsIn(all, 'global')).toEqual(all)
    expect(permissionsIn(all, 'usgov')).toEqual(all.filter((p) => !p.startsWith('SecurityIdentities')))
    expect(permissionsIn(all, 'china')).toEqual(['User.EnableDisableAccount.All'])
  })
})
