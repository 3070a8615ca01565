/**
 * The least-privileged Microsoft Graph application permission each operation needs, as each
 * operation's include file in microsoft-graph-docs-contrib lists it
 * (api-reference/v1.0/includes/permissions/<operation>-permissions.md). PermissionError names it, so a 403 says what to grant. `$batch` needs none of its own: each
 * item is authorized as if sent alone.
 */
export const OPERATION_PERMISSIONS = {
  'riskDetections.list': ['IdentityRiskEvent.Read.All'],
  'riskDetections.get': ['IdentityRiskEvent.Read.All'],
  'riskyUsers.list': ['IdentityRiskyUser.Read.All'],
  'riskyUsers.get': ['IdentityRiskyUser.Read.All'],
  'riskyUsers.history': ['IdentityRiskyUser.Read.All'],
  'riskyUsers.confirmCompromised': ['IdentityRiskyUser.ReadWrite.All'],
  'riskyUsers.dismiss': ['IdentityRiskyUser.ReadWrite.All'],
  'riskyUsers.confirmSafe': ['IdentityRiskyUser.ReadWrite.All'],
  'users.get': ['User.Read.All'],
  'users.revokeSignInSessions': ['User.RevokeSessions.All'],
  'users.setAccountEnabled': ['User.EnableDisableAccount.All', 'User.Read.All'],
  'users.resetPassword': ['User-PasswordProfile.ReadWrite.All'],
  'groups.transitiveMembers': ['GroupMember.ReadBasic.All'],
  'identityAccounts.list': ['SecurityIdentitiesAccount.Read.All'],
  'identityAccounts.get': ['SecurityIdentitiesAccount.Read.All'],
  'identityAccounts.invokeAction': ['SecurityIdentitiesActions.ReadWrite.All'],
  // Workload identities. The risky service principal pages, unlike the risky user pages, list
  // ReadWrite.All as a higher-privileged alternative for reads (identityprotectionroot-list-riskyserviceprincipals.md).
  'riskyServicePrincipals.list': ['IdentityRiskyServicePrincipal.Read.All'],
  'riskyServicePrincipals.get': ['IdentityRiskyServicePrincipal.Read.All'],
  'riskyServicePrincipals.confirmCompromised': ['IdentityRiskyServicePrincipal.ReadWrite.All'],
  'riskyServicePrincipals.dismiss': ['IdentityRiskyServicePrincipal.ReadWrite.All'],
  'servicePrincipalRiskDetections.list': ['IdentityRiskEvent.Read.All'],
  'servicePrincipalRiskDetections.get': ['IdentityRiskEvent.Read.All'],
  'servicePrincipals.get': ['Application.Read.All'],
  // The pages name Application.ReadWrite.OwnedBy as least privileged, but it reaches only apps the
  // caller owns; a containment tool acts on any app, so Application.ReadWrite.All is the real need.
  'servicePrincipals.setAccountEnabled': ['Application.ReadWrite.All'],
  'servicePrincipals.removePassword': ['Application.ReadWrite.All'],
  'servicePrincipals.removeKeys': ['Application.ReadWrite.All'],
  'applications.get': ['Application.Read.All'],
  'applications.removePassword': ['Application.ReadWrite.All'],
  'applications.removeKeys': ['Application.ReadWrite.All'],
  // The $batch envelope needs no permission of its own: each request in it needs its operation's.
  batch: [],
} as const satisfies Record<string, readonly string[]>

export type GraphOperation = keyof typeof OPERATION_PERMISSIONS

/** Directory roles an app-only caller needs on top of the Graph permission, where the docs say so. */
const ROLE_NOTES: Partial<Record<GraphOperation, string>> = {
  'users.setAccountEnabled':
    'for a user who holds an admin role the app also needs a privileged directory role',
  'users.resetPassword':
    'the app also needs at least the User Administrator directory role (higher for admin targets)',
  'riskyServicePrincipals.list':
    'the tenant also needs a Microsoft Entra Workload ID Premium licence for the riskyServicePrincipals API',
  'riskyServicePrincipals.get':
    'the tenant also needs a Microsoft Entra Workload ID Premium licence for the riskyServicePrincipals API',
  'riskyServicePrincipals.confirmCompromised':
    'the tenant also needs a Microsoft Entra Workload ID Premium licence for the riskyServicePrincipals API',
  'riskyServicePrincipals.dismiss':
    'the tenant also needs a Microsoft Entra Workload ID Premium licence for the riskyServicePrincipals API',
  'identityAccounts.invokeAction':
    'Defender for Identity may also require a Defender XDR role with Response (manage) on Identities',
}

export function permissionFor(operation: GraphOperation): { permission: string; note: string | undefined } {
  const perms: readonly string[] = OPERATION_PERMISSIONS[operation]
  return {
    permission:
      perms.length === 0
        ? "none of its own (each request in a $batch needs its own operation's)"
        : perms.join(' + '),
    note: ROLE_NOTES[operation],
  }
}
