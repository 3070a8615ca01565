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
 *
 * Approvers' decisions live in a second container of the same account, `decisions`, so that the
 * job can be given read-only access to them (runnerHost.ts) while approvers get write access
 * to that container only (decision 012). Versioning and soft delete cover it (they are
 * account-wide), and the optional immutability policy applies to it as well: decisions are appended
 * to an append blob like the ledger.
 *
 * The evidence state (decision 015) lives in a third container, `state`: it is a cache the job
 * overwrites every run, so the immutability policy must not apply to it (a 409
 * BlobImmutableDueToPolicy on every save would make every run a full collection). Versioning is
 * account-wide, so a lifecycle rule deletes the state's versions after a day
 * (lifecycle-management-overview.md): otherwise a multi-megabyte version a minute is kept forever.
 */
import * as authorization from '@pulumi/azure-native/authorization/index.js'
import * as monitor from '@pulumi/azure-native/monitor/index.js'
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
/** Where the runner writes approval requests: `<ledger>.approvals.jsonl`, in the ledger container. */
export const REQUESTS_BLOB = `${LEDGER_BLOB}.approvals.jsonl`
export const DECISIONS_CONTAINER = 'decisions'
export const DECISIONS_BLOB = 'decisions.jsonl'
export const STATE_CONTAINER = 'state'
/** The evidence state (TOURNIQUET_EVIDENCE). */
export const STATE_BLOB = `${LEDGER_BLOB}.evidence.json`
/** Days a superseded version of the evidence state is kept (the lifecycle rule's smallest useful step is a day). */
export const STATE_VERSION_DAYS = 1

/**
 * The blob service's resource-log categories sent to Log Analytics, where they land in the
 * StorageBlobLogs table (https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-storage-storageaccounts-blobservices-logs;
 * azure-docs articles/storage/blobs/monitor-blob-storage.md, "Collection and routing"). StorageRead is left
 * out: every run reads the ledger and the decisions, and those reads would outnumber the writes
 * an audit asks about many times over.
 */
export const BLOB_LOG_CATEGORIES = ['StorageWrite', 'StorageDelete'] as const

export interface BlobLogsArgs {
  /** The Log Analytics workspace the job's audit goes to, so one workbook reads both. */
  workspaceId: pulumi.Input<string>
}

export class LedgerStore extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount
  readonly container: storage.BlobContainer
  readonly ledgerUrl: pulumi.Output<string>
  readonly decisions: storage.BlobContainer
  /** The blob the job reads decisions from (TOURNIQUET_DECISIONS) and approvers append to. */
  readonly decisionsUrl: pulumi.Output<string>
  /** The evidence state's container: no retention policy, versions deleted after a day. */
  readonly state: storage.BlobContainer
  /** The blob the job keeps its evidence state in (TOURNIQUET_EVIDENCE). */
  readonly stateUrl: pulumi.Output<string>
  private readonly logicalName: string

  constructor(name: string, args: LedgerStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tourniquet:index:LedgerStore', name, {}, opts)
    this.logicalName = name
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
    const container = (suffix: string, containerName: string) =>
      new storage.BlobContainer(
        suffix === '' ? name : `${name}-${suffix}`,
        {
          resourceGroupName: args.resourceGroupName,
          accountName: this.account.name,
          containerName,
          publicAccess: 'None',
        },
        { parent: this },
      )
    this.container = container('', LEDGER_CONTAINER)
    this.decisions = container('decisions', DECISIONS_CONTAINER)
    this.state = container('state', STATE_CONTAINER)
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
      for (const [suffix, target] of [
        ['', this.container],
        ['decisions', this.decisions],
      ] as const) {
        new storage.BlobContainerImmutabilityPolicy(
          suffix === '' ? name : `${name}-${suffix}`,
          {
            resourceGroupName: args.resourceGroupName,
            accountName: this.account.name,
            containerName: target.name,
            immutabilityPolicyName: 'default',
            immutabilityPeriodSinceCreationInDays: args.immutabilityDays,
            // Both are append blobs: new lines stay allowed, existing ones cannot change.
            allowProtectedAppendWrites: true,
          },
          { parent: this },
        )
      }
    }
    new storage.ManagementPolicy(
      `${name}-state-versions`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: this.account.name,
        managementPolicyName: 'default',
        policy: {
          rules: [
            {
              name: 'evidence-state-versions',
              enabled: true,
              type: 'Lifecycle',
              definition: {
                filters: { blobTypes: ['blockBlob'], prefixMatch: [`${STATE_CONTAINER}/`] },
                actions: { version: { delete: { daysAfterCreationGreaterThan: STATE_VERSION_DAYS } } },
              },
            },
          ],
        },
      },
      { parent: this, dependsOn: [this.state] },
    )
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
    this.decisionsUrl = pulumi.interpolate`https://${this.account.name}.${args.blobSuffix}/${DECISIONS_CONTAINER}/${DECISIONS_BLOB}`
    this.stateUrl = pulumi.interpolate`https://${this.account.name}.${args.blobSuffix}/${STATE_CONTAINER}/${STATE_BLOB}`
    this.registerOutputs({
      ledgerUrl: this.ledgerUrl,
      decisionsUrl: this.decisionsUrl,
      stateUrl: this.stateUrl,
    })
  }

  /**
   * Sends the blob service's writes and deletes to Log Analytics (StorageBlobLogs): each names the
   * Entra identity whose token made it (RequesterObjectId, RequesterUpn), which is how an approval
   * is traced to a person. A method rather than a constructor argument because the workspace
   * belongs to the runner, which is built after this store (it needs the containers' ids).
   * Scope: the blob service, `<account>/blobServices/default`: the blob log categories belong to
   * that resource, not to the account (monitor-blob-storage.md: "the resource ID of the Blob
   * storage endpoint").
   */
  logWrites(args: BlobLogsArgs): monitor.DiagnosticSetting {
    return new monitor.DiagnosticSetting(
      `${this.logicalName}-blob-logs`,
      {
        name: 'tourniquet-blob-writes',
        resourceUri: pulumi.interpolate`${this.account.id}/blobServices/default`,
        workspaceId: args.workspaceId,
        logs: BLOB_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
      },
      { parent: this },
    )
  }
}
