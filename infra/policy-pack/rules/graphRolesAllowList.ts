import type { ResourceValidationPolicy } from '@pulumi/policy'

/**
 * Every Microsoft Graph application permission any Tourniquet policy can need. Anything else
 * (Directory.ReadWrite.All, User.ReadWrite.All, RoleManagement.*) is refused.
 */
export const ALLOWED_GRAPH_PERMISSIONS = [
  'GroupMember.Read.All',
  'IdentityRiskEvent.Read.All',
  'IdentityRiskyUser.Read.All',
  'IdentityRiskyUser.ReadWrite.All',
  'SecurityIdentitiesAccount.Read.All',
  'SecurityIdentitiesActions.ReadWrite.All',
  'User-PasswordProfile.ReadWrite.All',
  'User.EnableDisableAccount.All',
  'User.Read.All',
  'User.RevokeSessions.All',
] as const

const PREFIX = 'graph-role-'

/**
 * App-role assignments name their permission (`graph-role-<permission>`, as RemediationApp creates
 * them): the role id is a per-tenant GUID, the name is what a reviewer reads.
 */
export const graphRolesAllowList: ResourceValidationPolicy = {
  name: 'graph-app-roles-allow-list',
  description: 'Microsoft Graph app-role assignments must stay within the permissions Tourniquet can use.',
  enforcementLevel: 'mandatory',
  validateResource: (args, report) => {
    if (args.type !== 'azuread:index/appRoleAssignment:AppRoleAssignment') return
    if (!args.name.startsWith(PREFIX)) {
      report(
        `app-role assignment '${args.name}' does not name its permission (expected ${PREFIX}<permission>)`,
      )
      return
    }
    const permission = args.name.slice(PREFIX.length)
    if (!(ALLOWED_GRAPH_PERMISSIONS as readonly string[]).includes(permission)) {
      report(
        `'${permission}' is not a permission Tourniquet needs; allowed: ${ALLOWED_GRAPH_PERMISSIONS.join(', ')}`,
      )
    }
  },
}
