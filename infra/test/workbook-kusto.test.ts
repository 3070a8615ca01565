import { describe, expect, it } from 'vitest'
import { BLOB_LOG_CATEGORIES, DECISIONS_CONTAINER } from '../src/components/ledgerStore.js'
import { workbookContent } from '../src/workbook/workbook.js'
import { analyzer, type Columns, errorsIn } from './kusto.js'

/**
 * The console log table as the queries may rely on it: TimeGenerated and Log_s only. The job's and
 * the app's name columns are left out on purpose: a workspace that never saw one of them lacks it,
 * and the queries read both through column_ifexists, so naming either directly fails here too.
 */
const CONSOLE_LOGS: Columns = { TimeGenerated: 'datetime', Log_s: 'string' }

/**
 * StorageBlobLogs, every column of its reference with its type
 * (https://learn.microsoft.com/azure/azure-monitor/reference/tables/storagebloblogs).
 */
const STORAGE_BLOB_LOGS: Columns = {
  AccessTier: 'string',
  AccountName: 'string',
  AuthenticationHash: 'string',
  AuthenticationType: 'string',
  AuthorizationDetails: 'dynamic',
  _BilledSize: 'real',
  CallerIpAddress: 'string',
  Category: 'string',
  ClientRequestId: 'string',
  ConditionsUsed: 'string',
  ContentLengthHeader: 'long',
  CorrelationId: 'string',
  DestinationUri: 'string',
  DurationMs: 'real',
  Etag: 'string',
  _IsBillable: 'string',
  LastModifiedTime: 'datetime',
  Location: 'string',
  MetricResponseType: 'string',
  ObjectKey: 'string',
  OperationCount: 'int',
  OperationName: 'string',
  OperationVersion: 'string',
  Protocol: 'string',
  ReferrerHeader: 'string',
  RehydratePriority: 'string',
  RequestBodySize: 'long',
  RequesterAppId: 'string',
  RequesterAudience: 'string',
  RequesterObjectId: 'string',
  RequesterTenantId: 'string',
  RequesterTokenIssuer: 'string',
  RequesterUpn: 'string',
  RequestHeaderSize: 'long',
  RequestMd5: 'string',
  _ResourceId: 'string',
  ResponseBodySize: 'long',
  ResponseHeaderSize: 'long',
  ResponseMd5: 'string',
  SasExpiryStatus: 'string',
  SchemaVersion: 'string',
  ServerLatencyMs: 'real',
  ServiceType: 'string',
  SourceAccessTier: 'string',
  SourceSystem: 'string',
  SourceUri: 'string',
  StatusCode: 'string',
  StatusText: 'string',
  _SubscriptionId: 'string',
  TenantId: 'string',
  TimeGenerated: 'datetime',
  TlsVersion: 'string',
  Type: 'string',
  Uri: 'string',
  UserAgentHeader: 'string',
}

const analyze = analyzer({ ContainerAppConsoleLogs_CL: CONSOLE_LOGS, StorageBlobLogs: STORAGE_BLOB_LOGS })

// Every query the deployed workbook runs, taken from its serialized content, not from queries.ts.
const content = JSON.parse(
  workbookContent(
    { jobName: 'tq-dev-runner', appName: 'tq-dev-watch' },
    { accountName: 'tqstab12cd34ef56', container: DECISIONS_CONTAINER, categories: BLOB_LOG_CATEGORIES },
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/tq-dev-logs',
  ),
) as { items: Array<{ type: number; name: string; content: { query?: string } }> }
const QUERIES = content.items.filter((i) => i.type === 3).map((i) => [i.name, i.content.query ?? ''] as const)

describe("the workbook's queries, compiled by Microsoft's Kusto language service", () => {
  it('the workbook has the five audit queries and the decision writers query', () => {
    expect(QUERIES.map(([name]) => name)).toEqual([
      'runsOverTime',
      'actions',
      'failures',
      'pendingApprovals',
      'timeToContainment',
      'decisionWrites',
    ])
  })

  it.each(QUERIES)('%s: parses and binds every name, with no error', (_name, query) => {
    expect(errorsIn(query, analyze(query))).toEqual([])
  })

  it('a misspelled column, an unknown operator and a column naming the job directly are reported (the check can fail)', () => {
    const misspelled = 'StorageBlobLogs\n| project TimeGenerated, RequesterUPN'
    expect(errorsIn(misspelled, analyze(misspelled))).toEqual([
      expect.stringMatching(
        /^KS142 The name 'RequesterUPN' does not refer to any known column.*: "RequesterUPN"$/,
      ),
    ])
    const typo = 'ContainerAppConsoleLogs_CL\n| wher Log_s != ""'
    expect(errorsIn(typo, analyze(typo))[0]).toMatch(/Query operator expected/)
    const direct = 'ContainerAppConsoleLogs_CL\n| where ContainerJobName_s == "tq-dev-runner"'
    expect(errorsIn(direct, analyze(direct))).toEqual([
      expect.stringMatching(/does not refer to any known column.*: "ContainerJobName_s"$/),
    ])
  })
})
