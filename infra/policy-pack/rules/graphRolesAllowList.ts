import type { PolicyResource, StackValidationPolicy } from '@pulumi/policy'

/** Microsoft Graph's application id: the same in every tenant (a first-party app). */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'

/**
 * Every Microsoft Graph application permission any Tourniquet policy can need, with its app role id
 * where we could confirm it. App role ids are fixed GUIDs that Microsoft publishes (Graph permissions
 * reference, microsoft-graph-docs-contrib concepts/permissions-reference.md; the same ids appear in
 * every tenant's Graph service principal). The ids of GroupMember.ReadBasic.All and the two Defender
 * for Identity permissions could not be confirmed from a stored source: for them the tenant's own
 * Graph service principal is the only authority.
 * Anything else (Directory.ReadWrite.All, User.ReadWrite.All, Application.ReadWrite.OwnedBy,
 * RoleManagement.*) is refused.
 */
export const GRAPH_APP_ROLE_IDS: Readonly<Record<string, string | undefined>> = {
  // Workload identities (the policy's servicePrincipals section). Application.ReadWrite.All is the
  // most powerful grant Tourniquet can hold (it can add credentials to any app: BLAST_RADIUS in
  // @tourniquet/policy); it is granted only when a servicePrincipals rule disables, enables or
  // removes credentials. Ids as Graph's appRoles list them, seen identically in several public
  // repositories' copies of Graph's service principal (the permissions reference lists the same).
  'Application.Read.All': '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30',
  'Application.ReadWrite.All': '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
  'GroupMember.Read.All': '98830695-27a2-44f7-8c18-0c3ebc9698f6',
  // The least-privileged permission the transitiveMembers page lists; @tourniquet/policy may ask
  // for it instead of GroupMember.Read.All.
  'GroupMember.ReadBasic.All': undefined,
  'IdentityRiskEvent.Read.All': '6e472fd1-ad78-48da-a0f0-97ab2c6b769e',
  'IdentityRiskyServicePrincipal.Read.All': '607c7344-0eed-41e5-823a-9695ebe1b7b0',
  'IdentityRiskyServicePrincipal.ReadWrite.All': 'cb8d6980-6bcb-4507-afec-ed6de3a2d798',
  'IdentityRiskyUser.Read.All': 'dc5007c0-2d7d-4c42-879c-2dab87571379',
  'IdentityRiskyUser.ReadWrite.All': '656f6061-f9fe-4807-9708-6a2e0934df76',
  'SecurityIdentitiesAccount.Read.All': undefined,
  'SecurityIdentitiesActions.ReadWrite.All': undefined,
  'User-PasswordProfile.ReadWrite.All': 'cc117bb9-00cf-4eb8-b580-ea2a878fe8f7',
  'User.EnableDisableAccount.All': '3011c876-62b7-4ada-afa2-506cbbecc68c',
  'User.Read.All': 'df021288-bdef-4463-88db-98f22de89214',
  'User.RevokeSessions.All': '77f3a031-c388-4f99-b373-dc68676a979e',
}

export const ALLOWED_GRAPH_PERMISSIONS = Object.keys(GRAPH_APP_ROLE_IDS)

const ASSIGNMENT = 'azuread:index/appRoleAssignment:AppRoleAssignment'
const SERVICE_PRINCIPAL = 'azuread:index/servicePrincipal:ServicePrincipal'

/**
 * App-role assignments are judged by what they grant, not by their Pulumi name: the grant's resource
 * must be the Microsoft Graph service principal of this stack (clientId = Graph's application id),
 * and its app role id must be one of the allowed permissions' ids, read from that service
 * principal's `appRoleIds` and checked against the documented GUID where we have one. Values still
 * unknown in a preview are checked at `pulumi up`, when the policy runs again on known values.
 */
export const graphRolesAllowList: StackValidationPolicy = {
  name: 'graph-app-roles-allow-list',
  description:
    'Microsoft Graph app-role assignments must target Microsoft Graph and stay within the permissions Tourniquet can use.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const graphPrincipals = args.resources.filter(
      (r) => r.type === SERVICE_PRINCIPAL && r.props.clientId === MICROSOFT_GRAPH_APP_ID,
    )
    for (const assignment of args.resources.filter((r) => r.type === ASSIGNMENT)) {
      checkAssignment(assignment, graphPrincipals, (message) => report(message, assignment.urn))
    }
  },
}

function checkAssignment(
  assignment: PolicyResource,
  graphPrincipals: PolicyResource[],
  report: (message: string) => void,
): void {
  const { appRoleId, resourceObjectId } = assignment.props as {
    appRoleId?: string
    resourceObjectId?: string
  }
  if (appRoleId === undefined || resourceObjectId === undefined) return // unknown in preview
  const graph = graphPrincipals.find((sp) => sp.props.objectId === resourceObjectId)
  if (graph === undefined) {
    report(
      `app-role assignment '${assignment.name}' grants a role on ${resourceObjectId}, which is not the Microsoft Graph service principal (application id ${MICROSOFT_GRAPH_APP_ID})`,
    )
    return
  }
  const tenantRoles = (graph.props.appRoleIds ?? {}) as Record<string, string>
  const documented = Object.entries(GRAPH_APP_ROLE_IDS).find(([, id]) => id === appRoleId)?.[0]
  const permission =
    documented ??
    Object.entries(tenantRoles).find(([, id]) => id.toLowerCase() === appRoleId.toLowerCase())?.[0]
  if (permission === undefined) {
    report(
      `app-role assignment '${assignment.name}' grants app role ${appRoleId}, which is no Microsoft Graph permission Tourniquet uses`,
    )
    return
  }
  if (!(permission in GRAPH_APP_ROLE_IDS)) {
    report(
      `app-role assignment '${assignment.name}' grants '${permission}', which is not a permission Tourniquet needs; allowed: ${ALLOWED_GRAPH_PERMISSIONS.join(', ')}`,
    )
    return
  }
  const expected = GRAPH_APP_ROLE_IDS[permission]
  if (expected !== undefined && expected !== appRoleId.toLowerCase()) {
    report(
      `app-role assignment '${assignment.name}' names '${permission}' with app role ${appRoleId}; Microsoft Graph's is ${expected}`,
    )
  }
}
