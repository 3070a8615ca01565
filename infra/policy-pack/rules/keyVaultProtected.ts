import * as keyvault from '@pulumi/azure-native/keyvault/index.js'
import { type ResourceValidationPolicy, validateResourceOfType } from '@pulumi/policy'

/** A vault that holds a credential must survive a mistaken delete and use RBAC, not access policies. */
export const keyVaultProtected: ResourceValidationPolicy = {
  name: 'key-vault-purge-protection-and-rbac',
  description: 'Key Vaults must enable purge protection, soft delete, and RBAC authorization.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(keyvault.Vault, (vault, _args, report) => {
    const p = vault.properties
    if (p?.enablePurgeProtection !== true)
      report('enablePurgeProtection must be true: a deleted vault must not be purgeable')
    if (p?.enableRbacAuthorization !== true)
      report('enableRbacAuthorization must be true: grant access with Azure roles, not vault access policies')
    if (p?.enableSoftDelete === false) report('enableSoftDelete must not be false')
  }),
}
