/**
 * Key Vault in RBAC mode with soft delete (90 days) and purge protection, holding the client secret
 * with an expiry and a content type. The secret's value only ever flows from the password resource
 * into the vault: never into an output or plain config.
 */
import * as keyvault from '@pulumi/azure-native/keyvault/index.js'
import * as pulumi from '@pulumi/pulumi'

export interface SecretVaultArgs {
  resourceGroupName: pulumi.Input<string>
  location: string
  tenantId: pulumi.Input<string>
  vaultName: string
  /** Secret mode only. */
  secret?: { value: pulumi.Input<string>; expiresOn: string }
}

export const CLIENT_SECRET_NAME = 'graph-client-secret'

export class SecretVault extends pulumi.ComponentResource {
  readonly vault: keyvault.Vault
  readonly vaultUri: pulumi.Output<string>
  readonly secret: keyvault.Secret | undefined
  /** Versionless secret URI for Container Apps Key Vault references (picks up rotations). */
  readonly secretUri: pulumi.Output<string> | undefined

  constructor(name: string, args: SecretVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tourniquet:index:SecretVault', name, {}, opts)
    this.vault = new keyvault.Vault(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName: args.vaultName,
        properties: {
          tenantId: args.tenantId,
          sku: { family: 'A', name: 'standard' },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          enablePurgeProtection: true,
        },
      },
      { parent: this },
    )
    this.vaultUri = this.vault.properties.apply((p) => p.vaultUri ?? '')
    if (args.secret) {
      this.secret = new keyvault.Secret(
        name,
        {
          resourceGroupName: args.resourceGroupName,
          vaultName: this.vault.name,
          secretName: CLIENT_SECRET_NAME,
          properties: {
            // Secret already: the password's value output is marked secret by the provider and by RemediationApp.
            value: args.secret.value,
            contentType: 'text/plain; Microsoft Entra client secret of the tourniquet app',
            attributes: { enabled: true, expires: Math.floor(Date.parse(args.secret.expiresOn) / 1000) },
          },
        },
        { parent: this },
      )
      this.secretUri = pulumi.interpolate`${this.vaultUri}secrets/${CLIENT_SECRET_NAME}`
    } else {
      this.secret = undefined
      this.secretUri = undefined
    }
    this.registerOutputs({ vaultUri: this.vaultUri })
  }
}
