/**
 * Two tenants meet in this program: the Entra tenant of the azuread provider (where the app lives)
 * and the tenant of the Azure subscription (where the vault and the job's managed identity live).
 * A Key Vault's tenantId must be its subscription's tenant, and a federated identity credential
 * trusts tokens that the identity's tenant issues for an app of the same tenant (MicrosoftDocs/entra-docs
 * docs/workload-id/workload-identity-federation-config-app-trust-managed-identity.md: the managed
 * identity and the app must be in the same tenant).
 */
import * as pulumi from '@pulumi/pulumi'

export interface Tenants {
  /** The azuread provider's tenant: the app's, and the one the job signs in to for Graph. */
  app: string
  /** The subscription's tenant: the vault's and the managed identity's. */
  subscription: string
}

/** Fails the preview when federation is asked for across two tenants; otherwise returns both. */
export function checkTenants(authMode: 'secret' | 'federated', tenants: Tenants): Tenants {
  if (authMode === 'federated' && tenants.app.toLowerCase() !== tenants.subscription.toLowerCase()) {
    // RunError: Pulumi prints the message without a stack trace.
    throw new pulumi.RunError(
      `azuread:tenantId is ${tenants.app}, but the subscription's tenant is ${tenants.subscription}: ` +
        "a federated credential can only trust a managed identity of the app's own tenant. " +
        'Set azuread:tenantId to the subscription tenant, or use tourniquet:authMode secret.',
    )
  }
  return tenants
}
