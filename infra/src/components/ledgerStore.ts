/**
 * The runner's ledger and lease: a storage account that accepts Entra tokens only (no shared key),
 * TLS 1.2, no public blob access, and one private container. The job may write the ledger but not
 * silently rewrite or lose it (azure-docs articles/storage/blobs/):
 * - blob versioning keeps every overwritten state, and deleting a version needs
 *   deleteBlobVersion/action, which the job's Storage Blob Data Contributor role lacks
 *   (versioning-overview.md);
 * - blob and container soft delete keep deleted ones for `retentionDays`
 *   (soft-delete-blob-overview.md, soft-delete-container-overview.md);
 * - an optional time-based immutability policy makes blobs unchangeable while appends to the
 *   append-blob ledger stay allowed (immutable-time-based-retention-policy-overview.md,
 *   allowProtectedAppendWrites);
 * - a CanNotDelete lock keeps the account itself from being deleted.
 */
import * as authorization from '@pulumi/azure-native/authorization/index.js'
import * as storage from '@pulumi/azure-native/storage/index.js'
import * as pulumi from '@pulumi/pulumi'

export interface LedgerStoreArgs {
  resourceGroupName: pulumi.Input<string>
  location: string
  accountName: pulumi.Input<string>
  blobSuffix: string
  retentionDays: number
  /** 0: no immutability policy. */
  immutabilityDays: number
}

export const LEDGER_CONTAINER = 'tourniquet'
export const LEDGER_BLOB = 'ledger.jsonl'

export class LedgerStore extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount
  readonly container: storage.BlobContainer
  readonly ledgerUrl: pulumi.Output<string>

  constructor(name: string, args: LedgerStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tourniquet:index:LedgerStore', name, {}, opts)
    this.account = new storage.StorageAccount(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        accountName: args.accountName,
        kind: 'StorageV2',
        sku: { name: 'Standard_LRS' },
        allowSharedKeyAccess: false,
        allowBlobPublicAccess: false,
        minimumTlsVersion: 'TLS1_2',
        enableHttpsTrafficOnly: true,
      },
      { parent: this },
    )
    this.container = new storage.BlobContainer(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: this.account.name,
        containerName: LEDGER_CONTAINER,
        publicAccess: 'None',
      },
      { parent: this },
    )
    new storage.BlobServiceProperties(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: this.account.name,
        blobServicesName: 'default',
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: args.retentionDays },
        containerDeleteRetentionPolicy: { enabled: true, days: args.retentionDays },
      },
      { parent: this },
    )
    if (args.immutabilityDays > 0) {
      new storage.BlobContainerImmutabilityPolicy(
        name,
        {
          resourceGroupName: args.resourceGroupName,
          accountName: this.account.name,
          containerName: this.container.name,
          immutabilityPolicyName: 'default',
          immutabilityPeriodSinceCreationInDays: args.immutabilityDays,
          // The ledger is an append blob: new lines stay allowed, existing ones cannot change.
          allowProtectedAppendWrites: true,
        },
        { parent: this },
      )
    }
    new authorization.ManagementLockByScope(
      `${name}-no-delete`,
      {
        scope: this.account.id,
        level: 'CanNotDelete',
        notes:
          'Tourniquet: the account holds the remediation ledger; remove this lock (or pulumi destroy) to delete it.',
      },
      { parent: this },
    )
    this.ledgerUrl = pulumi.interpolate`https://${this.account.name}.${args.blobSuffix}/${LEDGER_CONTAINER}/${LEDGER_BLOB}`
    this.registerOutputs({ ledgerUrl: this.ledgerUrl })
  }
}
