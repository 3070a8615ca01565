/** What a policy can do to a service principal. */
export const SERVICE_PRINCIPAL_ACTIONS = [
  'confirmCompromised',
  'dismissRisk',
  'disable',
  'enable',
  'removeCredentials',
] as const
export type ServicePrincipalAction = (typeof SERVICE_PRINCIPAL_ACTIONS)[number]

/** Actions that cannot be undone: a removed secret or certificate cannot be restored. */
export const NOT_UNDOABLE: ReadonlySet<ServicePrincipalAction> = new Set(['removeCredentials'])

/** Actions that wait for a person's approval unless the policy says otherwise. */
export const APPROVAL_BY_DEFAULT: readonly ServicePrincipalAction[] = ['removeCredentials']
