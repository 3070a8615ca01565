/**
 * An Azure Monitor workbook over the runner's Log Analytics workspace: runs, actions, failures,
 * pending approvals and time to containment, from the audit lines, and who wrote to the decisions
 * container, from the ledger account's blob logs (workbook/queries.ts).
 * Microsoft.Insights/workbooks (azure-native applicationinsights.Workbook, API 2023-06-01):
 * category 'workbook' is the gallery it shows in, kind 'shared' the only valid kind, sourceId the
 * resource it belongs to, and the resource name must be a GUID.
 */
import { createHash } from 'node:crypto'
import * as applicationinsights from '@pulumi/azure-native/applicationinsights/index.js'
import * as pulumi from '@pulumi/pulumi'
import { workbookContent } from '../workbook/workbook.js'

export interface AuditWorkbookArgs {
  resourceGroupName: pulumi.Input<string>
  location: string
  subscriptionId: pulumi.Input<string>
  workspaceId: pulumi.Input<string>
  /** The job's name: it also seeds the workbook's GUID, so adding the watcher kept the same workbook. */
  jobName: string
  /** The watch app's name: its audit lines carry ContainerAppName_s instead of ContainerJobName_s. */
  appName: string
  displayName: string
  /** The ledger account's blob logs: who wrote to the decisions container. */
  decisionLogs: {
    accountName: pulumi.Input<string>
    container: string
    categories: readonly string[]
  }
}

/**
 * The same GUID for the same subscription, group and job on every deployment (like Bicep's guid()),
 * so an update changes the workbook in place instead of adding one.
 */
export function stableGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('/')).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export class AuditWorkbook extends pulumi.ComponentResource {
  readonly workbook: applicationinsights.Workbook

  constructor(name: string, args: AuditWorkbookArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tourniquet:index:AuditWorkbook', name, {}, opts)
    this.workbook = new applicationinsights.Workbook(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        resourceName: pulumi
          .all([args.subscriptionId, args.resourceGroupName])
          .apply(([sub, rg]) => stableGuid(sub, rg, args.jobName)),
        kind: 'shared',
        category: 'workbook',
        displayName: args.displayName,
        sourceId: args.workspaceId,
        version: 'Notebook/1.0',
        serializedData: pulumi
          .all([args.workspaceId, args.decisionLogs.accountName])
          .apply(([id, accountName]) =>
            workbookContent(
              { jobName: args.jobName, appName: args.appName },
              { ...args.decisionLogs, accountName },
              id,
            ),
          ),
      },
      { parent: this },
    )
    this.registerOutputs({})
  }
}
