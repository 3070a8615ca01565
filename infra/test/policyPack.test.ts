import { parsePolicy, requiredPermissions } from '@tourniquet/policy'
import { beforeAll, describe, expect, it } from 'vitest'
import { policies } from '../policy-pack/policies.js'
import { graphRolesAllowList, MICROSOFT_GRAPH_APP_ID } from '../policy-pack/rules/graphRolesAllowList.js'
import { jobManagedIdentity } from '../policy-pack/rules/jobManagedIdentity.js'
import { jobNoPlainSecrets } from '../policy-pack/rules/jobNoPlainSecrets.js'
import { jobReplicaTimeout } from '../policy-pack/rules/jobReplicaTimeout.js'
import { keyVaultProtected } from '../policy-pack/rules/keyVaultProtected.js'
import { passwordEndDate } from '../policy-pack/rules/passwordEndDate.js'
import { watchAppSingleReplica } from '../policy-pack/rules/watchAppSingleReplica.js'
import { parseSettings } from '../src/settings.js'
import { base, type Deployed, deploy, POLICY } from './deploy.js'
import { GRAPH_ROLE_IDS } from './mocks.js'
import { stackViolations, violations } from './policyHarness.js'

const VAULT = 'azure-native:keyvault:Vault'
const JOB = 'azure-native:app:Job'
const APP = 'azure-native:app:ContainerApp'
const ROLE = 'azuread:index/appRoleAssignment:AppRoleAssignment'
const PASSWORD = 'azuread:index/applicationPassword:ApplicationPassword'

const goodVault = () => ({
  properties: { enablePurgeProtection: true, enableRbacAuthorization: true, enableSoftDelete: true },
})
const goodJob = () => ({
  identity: { type: 'UserAssigned', userAssignedIdentities: ['/subscriptions/x/id'] },
  configuration: {
    replicaTimeout: 1800,
    secrets: [
      { name: 'graph-client-secret', keyVaultUrl: 'https://kv/secrets/x', identity: '/id' },
      { name: 'policy', value: 'version: 1' },
    ],
  },
  template: {
    containers: [
      {
        name: 'runner',
        env: [
          { name: 'AZURE_CLIENT_ID', value: '6f1c0000-0000-4000-a000-000000000001' },
          { name: 'AZURE_CLIENT_SECRET', secretRef: 'graph-client-secret' },
          { name: 'TOURNIQUET_MODE', value: 'apply' },
        ],
      },
    ],
  },
})
// The watcher as the program deploys it (trigger watch): the job's container, one replica, no ingress.
const goodWatcher = () => {
  const { configuration, ...rest } = goodJob()
  return {
    ...rest,
    configuration: { activeRevisionsMode: 'Single', secrets: configuration.secrets } as Record<
      string,
      unknown
    >,
    template: { ...rest.template, scale: { minReplicas: 1, maxReplicas: 1 } as Record<string, unknown> },
  }
}
const inSixMonths = () => new Date(Date.now() + 180 * 86_400_000).toISOString()

describe('policy pack: each rule passes a compliant fixture and catches one broken property at a time', () => {
  it('key vault: purge protection and RBAC', async () => {
    expect(await violations(keyVaultProtected, VAULT, goodVault())).toEqual([])
    expect(
      await violations(keyVaultProtected, VAULT, {
        properties: { ...goodVault().properties, enablePurgeProtection: false },
      }),
    ).toEqual([expect.stringMatching(/enablePurgeProtection/)])
    expect(
      await violations(keyVaultProtected, VAULT, {
        properties: { ...goodVault().properties, enableRbacAuthorization: false },
      }),
    ).toEqual([expect.stringMatching(/enableRbacAuthorization/)])
    expect(
      await violations(keyVaultProtected, VAULT, {
        properties: { ...goodVault().properties, enableSoftDelete: false },
      }),
    ).toEqual([expect.stringMatching(/enableSoftDelete/)])
    expect(await violations(keyVaultProtected, JOB, goodJob())).toBe('not applicable')
  })

  it('jobs: no secret-looking plain env values, secrets from Key Vault', async () => {
    expect(await violations(jobNoPlainSecrets, JOB, goodJob())).toEqual([])
    const plainSecret = goodJob()
    plainSecret.template.containers[0]?.env.push({ name: 'AZURE_CLIENT_SECRET', value: 'abc' } as never)
    expect(await violations(jobNoPlainSecrets, JOB, plainSecret)).toEqual([
      expect.stringMatching(/AZURE_CLIENT_SECRET has a plain value/),
    ])
    // Notification settings are credentials although their names and URL values do not look like one.
    for (const [name, value] of [
      ['TOURNIQUET_NOTIFY_URLS', 'https://contoso.webhook.office.com/workflows/abc?sig=x'],
      ['TOURNIQUET_NOTIFY_SECRET', 'hmac'],
      ['TOURNIQUET_NOTIFY_SECRET_2', 'hmac'],
    ]) {
      const plainNotify = goodJob()
      plainNotify.template.containers[0]?.env.push({ name, value } as never)
      expect(await violations(jobNoPlainSecrets, JOB, plainNotify)).toEqual([
        expect.stringMatching(new RegExp(`${name} has a plain value`)),
      ])
    }
    const looksLikeOne = goodJob()
    looksLikeOne.template.containers[0]?.env.push({
      name: 'SETTING',
      value: 'Zx8Q~mK3vP9rT2wY5bN7cD1fG4hJ6kL0sA',
    } as never)
    expect(await violations(jobNoPlainSecrets, JOB, looksLikeOne)).toEqual([
      expect.stringMatching(/looks like a credential/),
    ])
    const storedSecret = goodJob()
    storedSecret.configuration.secrets[0] = { name: 'graph-client-secret', value: 'abc' } as never
    expect(await violations(jobNoPlainSecrets, JOB, storedSecret)).toEqual([
      expect.stringMatching(/reference it from Key Vault/),
    ])
  })

  it('jobs: a managed identity', async () => {
    expect(await violations(jobManagedIdentity, JOB, goodJob())).toEqual([])
    expect(await violations(jobManagedIdentity, JOB, { ...goodJob(), identity: { type: 'None' } })).toEqual([
      expect.stringMatching(/identity type is 'None'/),
    ])
    expect(
      await violations(jobManagedIdentity, JOB, {
        ...goodJob(),
        identity: { type: 'UserAssigned', userAssignedIdentities: [] },
      }),
    ).toEqual([expect.stringMatching(/names no identity/)])
  })

  it('jobs: a replica timeout', async () => {
    expect(await violations(jobReplicaTimeout, JOB, goodJob())).toEqual([])
    expect(
      await violations(jobReplicaTimeout, JOB, {
        ...goodJob(),
        configuration: { ...goodJob().configuration, replicaTimeout: undefined },
      }),
    ).toEqual([expect.stringMatching(/must be set/)])
    expect(
      await violations(jobReplicaTimeout, JOB, {
        ...goodJob(),
        configuration: { ...goodJob().configuration, replicaTimeout: 200_000 },
      }),
    ).toEqual([expect.stringMatching(/at most 86400/)])
  })

  it('the watch app: one replica at most, no ingress', async () => {
    expect(await violations(watchAppSingleReplica, APP, goodWatcher())).toEqual([])
    const two = goodWatcher()
    two.template.scale.maxReplicas = 2
    expect(await violations(watchAppSingleReplica, APP, two)).toEqual([
      expect.stringMatching(/maxReplicas is 2; the watcher must run exactly one replica/),
    ])
    const unset = goodWatcher()
    delete unset.template.scale.maxReplicas
    expect(await violations(watchAppSingleReplica, APP, unset)).toEqual([
      expect.stringMatching(/maxReplicas is unset \(Container Apps then allows 10\)/),
    ])
    const exposed = goodWatcher()
    exposed.configuration.ingress = { external: false, targetPort: 8080 }
    expect(await violations(watchAppSingleReplica, APP, exposed)).toEqual([
      expect.stringMatching(/configuration\.ingress is set/),
    ])
    expect(await violations(watchAppSingleReplica, JOB, goodJob())).toBe('not applicable')
  })

  it('the watch app is held to the job rules on secrets and identity too', async () => {
    expect(await violations(jobNoPlainSecrets, APP, goodWatcher())).toEqual([])
    expect(await violations(jobManagedIdentity, APP, goodWatcher())).toEqual([])
    const plain = goodWatcher()
    plain.template.containers[0]?.env.push({ name: 'TOURNIQUET_NOTIFY_URLS', value: 'https://x' } as never)
    expect(await violations(jobNoPlainSecrets, APP, plain)).toEqual([
      expect.stringMatching(/TOURNIQUET_NOTIFY_URLS has a plain value/),
    ])
    expect(
      await violations(jobManagedIdentity, APP, { ...goodWatcher(), identity: { type: 'None' } }),
    ).toEqual([expect.stringMatching(/identity type is 'None'/)])
  })

  // The ids are Microsoft Graph's published app role ids (permissions reference); the grant's
  // resource must be the Graph service principal (application id 00000003-0000-0000-c000-000000000000).
  it("Graph app roles: judged by app role id and the grant's resource, not by resource name", async () => {
    const SP = 'azuread:index/servicePrincipal:ServicePrincipal'
    const graphSp = {
      type: SP,
      name: 'msgraph',
      props: { clientId: MICROSOFT_GRAPH_APP_ID, objectId: 'graph-sp', appRoleIds: GRAPH_ROLE_IDS },
    }
    const otherSp = { type: SP, name: 'other', props: { clientId: 'some-other-app', objectId: 'other-sp' } }
    const grant = (name: string, appRoleId: string, resourceObjectId = 'graph-sp') => ({
      type: ROLE,
      name,
      props: { appRoleId, resourceObjectId, principalObjectId: 'job-sp' },
    })
    const revoke = '77f3a031-c388-4f99-b373-dc68676a979e' // User.RevokeSessions.All
    const golden = [graphSp, otherSp, grant('graph-role-User.RevokeSessions.All', revoke)]
    expect(await stackViolations(graphRolesAllowList, golden)).toEqual([])
    // A harmless name on a broad role: refused (before, only the name was read).
    expect(
      await stackViolations(graphRolesAllowList, [
        graphSp,
        grant('graph-role-User.RevokeSessions.All', '19dbc75e-c2e2-444c-a770-ec69d8559fc7'),
      ]),
    ).toEqual([
      expect.stringMatching(/grants 'Directory\.ReadWrite\.All', which is not a permission Tourniquet needs/),
    ])
    // The right role id on another resource than Microsoft Graph: refused.
    expect(
      await stackViolations(graphRolesAllowList, [
        graphSp,
        otherSp,
        grant('graph-role-User.RevokeSessions.All', revoke, 'other-sp'),
      ]),
    ).toEqual([expect.stringMatching(/not the Microsoft Graph service principal/)])
    // A role id that Graph does not have: refused.
    expect(
      await stackViolations(graphRolesAllowList, [
        graphSp,
        grant('x', '00000000-0000-0000-0000-000000000000'),
      ]),
    ).toEqual([expect.stringMatching(/no Microsoft Graph permission Tourniquet uses/)])
    // Any resource name is fine when the grant itself is allowed.
    expect(await stackViolations(graphRolesAllowList, [graphSp, grant('some-role', revoke)])).toEqual([])
  })

  it('Graph app roles: the workload-identity permissions are allowed, OwnedBy and broader ones are not', async () => {
    const graphSp = {
      type: 'azuread:index/servicePrincipal:ServicePrincipal',
      name: 'msgraph',
      props: {
        clientId: MICROSOFT_GRAPH_APP_ID,
        objectId: 'graph-sp',
        appRoleIds: {
          ...GRAPH_ROLE_IDS,
          'Application.ReadWrite.OwnedBy': '18a4783c-866b-4cc7-a460-3d5e5662c884',
        },
      },
    }
    const grant = (appRoleId: string) => ({
      type: ROLE,
      name: 'graph-role',
      props: { appRoleId, resourceObjectId: 'graph-sp', principalObjectId: 'job-sp' },
    })
    for (const id of [
      '607c7344-0eed-41e5-823a-9695ebe1b7b0', // IdentityRiskyServicePrincipal.Read.All
      'cb8d6980-6bcb-4507-afec-ed6de3a2d798', // IdentityRiskyServicePrincipal.ReadWrite.All
      '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', // Application.Read.All
      '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9', // Application.ReadWrite.All
    ])
      expect(await stackViolations(graphRolesAllowList, [graphSp, grant(id)])).toEqual([])
    // OwnedBy reaches only apps the job owns: useless for containment, so never granted.
    expect(
      await stackViolations(graphRolesAllowList, [graphSp, grant('18a4783c-866b-4cc7-a460-3d5e5662c884')]),
    ).toEqual([
      expect.stringMatching(
        /grants 'Application\.ReadWrite\.OwnedBy', which is not a permission Tourniquet needs/,
      ),
    ])
  })

  it('application passwords: an end date within a year', async () => {
    expect(await violations(passwordEndDate, PASSWORD, { endDate: inSixMonths() })).toEqual([])
    expect(await violations(passwordEndDate, PASSWORD, {})).toEqual([
      expect.stringMatching(/endDate must be set/),
    ])
    expect(
      await violations(passwordEndDate, PASSWORD, {
        endDate: new Date(Date.now() + 800 * 86_400_000).toISOString(),
      }),
    ).toEqual([expect.stringMatching(/more than a year away/)])
    expect(await violations(passwordEndDate, PASSWORD, { endDateRelative: '8760h' })).toEqual([
      expect.stringMatching(/use endDate/),
    ])
    // Graph refuses a credential whose end date is past (the old default rotation date did this).
    expect(await violations(passwordEndDate, PASSWORD, { endDate: '2026-06-30T00:00:00.000Z' })).toEqual([
      expect.stringMatching(/is in the past: rotate/),
    ])
  })
})

async function allViolations(d: Deployed): Promise<string[]> {
  const found: string[] = []
  const resources = d.mocks.resources.map((r) => ({ type: r.type, name: r.name, props: r.state }))
  for (const policy of policies) {
    if ('validateStack' in policy) {
      found.push(...(await stackViolations(policy, resources)).map((m) => `${policy.name}: ${m}`))
      continue
    }
    for (const r of resources) {
      const v = await violations(policy, r.type, r.props, r.name)
      if (v !== 'not applicable') found.push(...v.map((m) => `${policy.name} on ${r.name}: ${m}`))
    }
  }
  return found
}

describe('policy pack: the real stack with the watcher is compliant', () => {
  it('every resource of a trigger watch stack passes every rule, the watcher included', async () => {
    const d = await deploy(
      parseSettings({ ...base, authMode: 'secret', trigger: 'watch', watchShare: '0.2' }),
      {
        now: new Date(),
      },
    )
    expect(d.mocks.resources.filter((r) => r.type === APP)).toHaveLength(1)
    expect(await allViolations(d)).toEqual([])
  })
})

describe('policy pack: the real stack is compliant', () => {
  let d: Deployed
  beforeAll(async () => {
    d = await deploy(
      parseSettings({ ...base, authMode: 'secret', secretRotation: '2', secretLifetimeDays: '180' }),
      {
        now: new Date(),
      },
    )
  })

  it('every resource the program creates passes every rule', async () => {
    const found: string[] = []
    // Outputs the policy server would see: what the mocks answered for each resource.
    const resources = d.mocks.resources.map((r) => ({ type: r.type, name: r.name, props: r.state }))
    for (const policy of policies) {
      if ('validateStack' in policy) {
        found.push(...(await stackViolations(policy, resources)).map((m) => `${policy.name}: ${m}`))
        continue
      }
      for (const r of resources) {
        const v = await violations(policy, r.type, r.props, r.name)
        if (v !== 'not applicable') found.push(...v.map((m) => `${policy.name} on ${r.name}: ${m}`))
      }
    }
    expect(found).toEqual([])
    expect(d.mocks.resources.length).toBeGreaterThan(15)
    expect(resources.filter((r) => r.type === ROLE)).toHaveLength(
      requiredPermissions(parsePolicy(POLICY)).length,
    )
  })
})
