/**
 * Key Vault in RBAC mode with soft delete (90 days) and purge protection, a CanNotDelete lock, and the
 * secrets the job reads: the client secret (secret mode, with an expiry and a content type), a
 * private registry's password, and the notification webhook URLs and HMAC key (the URLs carry their
 * own signatures, so they are credentials too). Their values only ever flow from their source into the vault: never
 * into an output or plain config.
 *
 * Soft delete (azure-docs articles/key-vault/general/soft-delete-overview.md): a deleted vault or
 * secret keeps its name for the retention period, and purge protection forbids purging it, so a
 * name is never reused here (decision 007): the vault name comes from the resource group's
 * auto-named suffix, and secret names are left to Pulumi's auto-naming, which adds a random suffix
 * kept in state, so a secret deleted and created again (secret -> federated -> secret) gets a new name.
 */
import * as authorization from '@pulumi/azure-native/authorization/index.js'
import * as keyvault from '@pulumi/azure-native/keyvault/index.js'
import * as pulumi from '@pulumi/pulumi'

export interface SecretVaultArgs {
  resourceGroupName: pulumi.Input<string>
  location: string
  /** The subscription's tenant: a vault can only live in the tenant of its subscription. */
  tenantId: pulumi.Input<string>
  vaultName: pulumi.Input<string>
  /** Secret mode only: the current password and its end date. */
  clientSecret?: { value: pulumi.Input<string>; endDate: pulumi.Input<string> }
  /** A private (non-Azure) registry's password. */
  registryPassword?: pulumi.Input<string>
  /** TOURNIQUET_NOTIFY_URLS: comma-separated webhook URLs. */
  notifyUrls?: pulumi.Input<string>
  /** TOURNIQUET_NOTIFY_SECRET: the HMAC key that signs notifications. */
  notifySecret?: pulumi.Input<string>
}

/** A Key Vault secret and its versionless URI. */
export interface VaultSecret {
  resource: keyvault.Secret
  uri: pulumi.Output<string>
}

const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000)

export class SecretVault extends pulumi.ComponentResource {
  readonly vault: keyvault.Vault
  readonly vaultUri: pulumi.Output<string>
  readonly clientSecret: keyvault.Secret | undefined
  /** Versionless secret URIs, so Container Apps picks up a new version without a job update. */
  readonly clientSecretUri: pulumi.Output<string> | undefined
  readonly registryPassword: keyvault.Secret | undefined
  readonly registryPasswordUri: pulumi.Output<string> | undefined
  readonly notifyUrls: VaultSecret | undefined
  readonly notifySecret: VaultSecret | undefined

  constructor(name: string, args: SecretVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tourniquet:index:SecretVault', name, {}, opts)
    const parent = { parent: this }
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
      parent,
    )
    this.vaultUri = this.vault.properties.apply((p) => p.vaultUri ?? '')
    // Management locks bind the control plane only: the job's data-plane role is unaffected.
    // Creating or removing one needs Microsoft.Authorization/locks/* (Owner or User Access
    // Administrator); `pulumi destroy` removes the lock before the vault.
    new authorization.ManagementLockByScope(
      `${name}-no-delete`,
      {
        scope: this.vault.id,
        level: 'CanNotDelete',
        notes:
          'Tourniquet: the vault holds the job credential; remove this lock (or pulumi destroy) to delete it.',
      },
      parent,
    )

    const secret = (suffix: string, properties: keyvault.SecretArgs['properties']) =>
      // No secretName: auto-named (random suffix kept in state), see the module comment.
      new keyvault.Secret(
        `${name}-${suffix}`,
        { resourceGroupName: args.resourceGroupName, vaultName: this.vault.name, properties },
        parent,
      )
    // The URI names the secret, it is not the secret: unsecret it, or the whole job configuration
    // that references it would be hidden as a secret in previews and state.
    const uriOf = (s: keyvault.Secret) => pulumi.unsecret(s.properties.apply((p) => p.secretUri))

    if (args.clientSecret) {
      this.clientSecret = secret('graph-client-secret', {
        // Secret already: the password's value is marked secret by the provider and by RemediationApp.
        value: args.clientSecret.value,
        contentType: 'text/plain; Microsoft Entra client secret of the tourniquet app',
        attributes: { enabled: true, expires: pulumi.output(args.clientSecret.endDate).apply(unixSeconds) },
      })
      this.clientSecretUri = uriOf(this.clientSecret)
    } else {
      this.clientSecret = undefined
      this.clientSecretUri = undefined
    }
    if (args.registryPassword !== undefined) {
      this.registryPassword = secret('registry-password', {
        value: pulumi.secret(args.registryPassword),
        contentType: 'text/plain; container registry password for the tourniquet job',
      })
      this.registryPasswordUri = uriOf(this.registryPassword)
    } else {
      this.registryPassword = undefined
      this.registryPasswordUri = undefined
    }
    const optional = (suffix: string, value: pulumi.Input<string> | undefined, contentType: string) => {
      if (value === undefined) return undefined
      const resource = secret(suffix, { value: pulumi.secret(value), contentType })
      return { resource, uri: uriOf(resource) }
    }
    this.notifyUrls = optional(
      'notify-urls',
      args.notifyUrls,
      'text/plain; comma-separated webhook URLs the tourniquet job notifies',
    )
    this.notifySecret = optional(
      'notify-secret',
      args.notifySecret,
      'text/plain; HMAC key the tourniquet job signs notifications with',
    )
    this.registerOutputs({ vaultUri: this.vaultUri })
  }
}
