/**
 * The runner's ledger and lease: a storage account that accepts Entra tokens only (no shared key),
 * TLS 1.2, no public blob access, and one private container.
 */
import * as storage from '@pulumi/azure-native/storage/index.js'
import * as pulumi from '@pulumi/pulumi'

export interface LedgerStoreArgs {
  resourceGroupName: pulumi.Input<string>
  location: string
  accountName: string
  blobSuffix: string
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
    this.ledgerUrl = pulumi.interpolate`https://${this.account.name}.${args.blobSuffix}/${LEDGER_CONTAINER}/${LEDGER_BLOB}`
    this.registerOutputs({ ledgerUrl: this.ledgerUrl })
  }
}
