/**
 * The Entra app the job signs in as: Application + ServicePrincipal, and Microsoft Graph app-role
 * assignments (admin consent) for exactly the permissions the policy needs, resolved by name from
 * the Microsoft Graph service principal. Secret mode adds an ApplicationPassword with an end date
 * that rotates on a config key; federated mode adds a federated identity credential that trusts the
 * job's managed identity, and no password at all.
 */
import * as azuread from '@pulumi/azuread'
import * as pulumi from '@pulumi/pulumi'

export interface RemediationAppArgs {
  displayName: string
  permissions: string[]
  authMode: 'secret' | 'federated'
  /** Secret mode: ISO end date and the rotation key. */
  secret?: { endDate: string; rotation: string }
  /** Federated mode: who to trust. */
  federated?: { issuer: pulumi.Input<string>; subject: pulumi.Input<string> }
}

export class RemediationApp extends pulumi.ComponentResource {
  readonly application: azuread.Application
  readonly servicePrincipal: azuread.ServicePrincipal
  readonly clientId: pulumi.Output<string>
  readonly password: azuread.ApplicationPassword | undefined
  readonly grantedPermissions: string[]

  constructor(name: string, args: RemediationAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tourniquet:index:RemediationApp', name, {}, opts)
    const parent = { parent: this }
    const publishedIds = azuread.getApplicationPublishedAppIdsOutput(parent)
    const graphAppId = publishedIds.result.apply((ids) => {
      const id = ids.MicrosoftGraph
      if (!id)
        throw new Error(
          'the Microsoft Graph application id could not be resolved (azuread getApplicationPublishedAppIds)',
        )
      return id
    })
    // The tenant's existing Microsoft Graph service principal: where app roles are resolved by name.
    const graph = new azuread.ServicePrincipal(
      `${name}-msgraph`,
      { clientId: graphAppId, useExisting: true },
      { ...parent, retainOnDelete: true },
    )
    const roleId = (permission: string): pulumi.Output<string> =>
      graph.appRoleIds.apply((ids) => {
        const id = ids[permission]
        if (!id) {
          throw new Error(
            `Microsoft Graph has no application permission named '${permission}' in this tenant (check the spelling in @tourniquet/policy)`,
          )
        }
        return id
      })

    this.application = new azuread.Application(
      name,
      {
        displayName: args.displayName,
        signInAudience: 'AzureADMyOrg',
        // Declared for the portal's "API permissions" page; the grants themselves are the assignments below.
        requiredResourceAccesses: [
          {
            resourceAppId: graphAppId,
            resourceAccesses: args.permissions.map((p) => ({ id: roleId(p), type: 'Role' })),
          },
        ],
      },
      parent,
    )
    this.servicePrincipal = new azuread.ServicePrincipal(
      name,
      { clientId: this.application.clientId },
      parent,
    )
    this.clientId = this.application.clientId
    this.grantedPermissions = [...args.permissions]
    for (const permission of args.permissions) {
      // The resource name carries the permission: the policy pack checks it against its allow-list.
      new azuread.AppRoleAssignment(
        `graph-role-${permission}`,
        {
          appRoleId: roleId(permission),
          principalObjectId: this.servicePrincipal.objectId,
          resourceObjectId: graph.objectId,
        },
        parent,
      )
    }

    if (args.authMode === 'secret') {
      if (!args.secret) throw new Error('secret mode needs an end date and a rotation key')
      this.password = new azuread.ApplicationPassword(
        name,
        {
          applicationId: this.application.id,
          displayName: `tourniquet job (rotation ${args.secret.rotation})`,
          endDate: args.secret.endDate,
          rotateWhenChanged: { rotation: args.secret.rotation },
        },
        { ...parent, additionalSecretOutputs: ['value'] },
      )
    } else {
      if (!args.federated) throw new Error('federated mode needs the issuer and subject to trust')
      this.password = undefined
      new azuread.ApplicationFederatedIdentityCredential(
        name,
        {
          applicationId: this.application.id,
          displayName: 'tourniquet-job-identity',
          description: "Trusts the remediation job's user-assigned managed identity: no secret exists",
          audiences: ['api://AzureADTokenExchange'],
          issuer: args.federated.issuer,
          subject: args.federated.subject,
        },
        parent,
      )
    }
    this.registerOutputs({ clientId: this.clientId })
  }
}
