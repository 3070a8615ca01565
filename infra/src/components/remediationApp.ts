/**
 * The Entra app the job signs in as: Application + ServicePrincipal, and Microsoft Graph app-role
 * assignments (admin consent) for exactly the permissions the policy needs, resolved by name from
 * the Microsoft Graph service principal. Secret mode keeps two passwords, the current rotation's and
 * the previous one's, each with an end date fixed when it was issued (decision 007); federated mode
 * adds a federated identity credential that trusts the job's managed identity, and no password at all.
 */
import * as azuread from '@pulumi/azuread'
import * as pulumi from '@pulumi/pulumi'

export interface RemediationAppArgs {
  displayName: string
  permissions: string[]
  authMode: 'secret' | 'federated'
  /** Secret mode: the rotation number, each password's lifetime, and when this deployment runs. */
  secret?: { rotation: number; lifetimeDays: number; now: Date }
  /** Federated mode: who to trust, with the token-exchange audience of the cloud. */
  federated?: { issuer: pulumi.Input<string>; subject: pulumi.Input<string>; audience: string }
}

const DAY_MS = 86_400_000

/** The rotations whose passwords exist: this one and the one before (the older is removed at the next). */
export function livePasswordRotations(rotation: number): number[] {
  return rotation > 1 ? [rotation - 1, rotation] : [rotation]
}

export class RemediationApp extends pulumi.ComponentResource {
  readonly application: azuread.Application
  readonly servicePrincipal: azuread.ServicePrincipal
  readonly clientId: pulumi.Output<string>
  /** Secret mode: the current rotation's password (the one Key Vault holds). */
  readonly password: azuread.ApplicationPassword | undefined
  /** Secret mode: every live password, oldest first. */
  readonly passwords: azuread.ApplicationPassword[]
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
      if (!args.secret) throw new Error('secret mode needs the rotation number, lifetime and deployment time')
      const { lifetimeDays, now } = args.secret
      // One resource per rotation number: a new rotation is a new resource, created with this
      // deployment's end date; an existing one keeps the end date it was issued with (ignoreChanges
      // reads it from state), so the end date is never a stale default and never moves.
      // Graph refuses an end date in the past; the policy pack refuses one more than a year away.
      this.passwords = livePasswordRotations(args.secret.rotation).map(
        (rotation) =>
          new azuread.ApplicationPassword(
            `${name}-rotation-${rotation}`,
            {
              applicationId: this.application.id,
              displayName: `tourniquet job (rotation ${rotation})`,
              endDate: new Date(now.getTime() + lifetimeDays * DAY_MS).toISOString(),
            },
            { ...parent, additionalSecretOutputs: ['value'], ignoreChanges: ['endDate'] },
          ),
      )
      this.password = this.passwords.at(-1)
    } else {
      if (!args.federated) throw new Error('federated mode needs the issuer and subject to trust')
      this.password = undefined
      this.passwords = []
      new azuread.ApplicationFederatedIdentityCredential(
        name,
        {
          applicationId: this.application.id,
          displayName: 'tourniquet-job-identity',
          description: "Trusts the remediation job's user-assigned managed identity: no secret exists",
          audiences: [args.federated.audience],
          issuer: args.federated.issuer,
          subject: args.federated.subject,
        },
        parent,
      )
    }
    this.registerOutputs({ clientId: this.clientId })
  }
}
