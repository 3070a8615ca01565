/**
 * The workbook's Kusto queries over the runner's audit (its stdout: one JSON object per line in
 * ContainerAppConsoleLogs_CL.Log_s). Kept here, apart from the workbook layout, so tests can check
 * every field and literal they rely on against recorded audit lines (test/workbook-queries.test.ts):
 * a renamed audit field would otherwise leave a panel silently empty.
 */

export interface AuditQuery {
  /** Panel title. */
  title: string
  /** Workbook visualization of the result. */
  visualization: 'timechart' | 'table' | 'barchart'
  query: string
}

/** The runner's Container Apps names: the scheduled job's and the watch app's. */
export interface RunnerNames {
  jobName: string
  appName: string
}

/**
 * The runner's audit lines, each parsed into `e`. A job's lines carry its name in ContainerJobName_s,
 * the watch app's in ContainerAppName_s; a workspace only has the columns of what has logged to it,
 * and a query naming a missing column fails, so each is read through column_ifexists. Both names
 * always: a stack that switched trigger shows its whole history.
 */
const audit = ({ jobName, appName }: RunnerNames) => `ContainerAppConsoleLogs_CL
| where column_ifexists("ContainerJobName_s", "") == "${jobName}" or column_ifexists("ContainerAppName_s", "") == "${appName}"
| extend e = parse_json(Log_s)`

export function auditQueries(names: RunnerNames) {
  const base = audit(names)
  return {
    runsOverTime: {
      title: 'Runs over time, by outcome',
      visualization: 'timechart',
      query: `${base}
| where tostring(e.event) == "summary"
| summarize runs = count() by outcome = tostring(e.outcome), bin(TimeGenerated, 1h)`,
    },
    actions: {
      title: 'Actions by rule, route and status',
      visualization: 'table',
      query: `${base}
| where tostring(e.event) == "step"
| summarize steps = count() by rule = tostring(e.rule), action = tostring(e.action), route = tostring(e.route), status = tostring(e.status)
| order by steps desc`,
    },
    failures: {
      title: 'Failed and unverified steps (latest 50)',
      visualization: 'table',
      query: `${base}
| where tostring(e.event) == "step" and tostring(e.status) in ("failed", "unverified")
| project TimeGenerated, runId = tostring(e.runId), user = tostring(e.userPrincipalName), rule = tostring(e.rule), action = tostring(e.action), route = tostring(e.route), status = tostring(e.status), reason = tostring(e.reason), graphRequestId = tostring(e.graphRequestId), correlationId = tostring(e.correlationId)
| order by TimeGenerated desc
| take 50`,
    },
    // A step is one user, action and evidence; its latest status among the runs that act decides
    // whether it still waits. Plan runs are left out: they report "planned" and change nothing.
    pendingApprovals: {
      title: 'Steps waiting for approval',
      visualization: 'table',
      query: `${base}
| where tostring(e.event) == "step" and tostring(e.status) != "planned" and isnotempty(tostring(e.evidenceKey))
| extend userId = tostring(e.userId), action = tostring(e.action), evidenceKey = tostring(e.evidenceKey), status = tostring(e.status), user = tostring(e.userPrincipalName), rule = tostring(e.rule), runId = tostring(e.runId), reason = tostring(e.reason)
| summarize arg_max(TimeGenerated, status, user, rule, runId, reason) by userId, action, evidenceKey
| where status == "pendingApproval"
| project requestedAt = TimeGenerated, user, action, rule, runId, reason`,
    },
    // From the run's start line to each verified step of that run. The audit does not carry when
    // the risk was detected, so detection-to-containment cannot be computed yet (see the note).
    timeToContainment: {
      title: 'Time to containment: run start to verified step (seconds)',
      visualization: 'table',
      query: `let starts = ${base}
| where tostring(e.event) == "start"
| project runId = tostring(e.runId), started = TimeGenerated;
${base}
| where tostring(e.event) == "step" and tostring(e.status) == "succeeded"
| project runId = tostring(e.runId), action = tostring(e.action), at = TimeGenerated
| join kind=inner starts on runId
| extend seconds = (at - started) / 1s
| summarize steps = count(), p50 = percentile(seconds, 50), p90 = percentile(seconds, 90), slowest = max(seconds) by action`,
    },
  } satisfies Record<string, AuditQuery>
}

/** Where the decisions are and which blob log categories reach the workspace (LedgerStore). */
export interface DecisionLogNames {
  /** The ledger storage account (StorageBlobLogs.AccountName). */
  accountName: string
  /** The decisions container: its writes are approvals and rejections. */
  container: string
  /** The categories the account's diagnostic setting sends: writes and deletes, no reads. */
  categories: readonly string[]
}

/**
 * Who wrote to the decisions container, from the storage account's own log rather than from the
 * line's `by`: the Entra identity whose token made the request (RequesterObjectId, and
 * RequesterUpn for a user), how it authenticated and from where. Failed requests are kept: a 403
 * from the job's identity is an attempt to approve its own step. Columns are those of the
 * StorageBlobLogs reference (https://learn.microsoft.com/azure/azure-monitor/reference/tables/storagebloblogs);
 * Uri carries the container as the first segment of its path, and a query string
 * (`?comp=appendblock`) that is cut off.
 */
export function decisionQueries({ accountName, container, categories }: DecisionLogNames) {
  return {
    decisionWrites: {
      title: 'Who wrote to the decisions container (latest 100 writes and deletes)',
      visualization: 'table',
      query: `StorageBlobLogs
| where AccountName == "${accountName}" and Category in (${categories.map((c) => `"${c}"`).join(', ')})
| extend blob = tostring(parse_url(Uri).Path)
| where blob startswith "/${container}/"
| project TimeGenerated, RequesterObjectId, RequesterUpn, AuthenticationType, CallerIpAddress, OperationName, StatusCode, blob
| order by TimeGenerated desc
| take 100`,
    },
  } satisfies Record<string, AuditQuery>
}

export const DECISIONS_NOTE =
  "**Who wrote a decision** is read from the ledger storage account's blob logs (StorageBlobLogs): " +
  'the identity whose token wrote to the decisions container, not the `--by` note on the line. ' +
  '`tourniquet approve` and `reject` send a PutBlob that only creates the trail (409 once it exists) and an AppendBlock with the decision.'

export const CONTAINMENT_NOTE =
  '**Time to containment** here runs from the start of a run to each step it verified (status succeeded). ' +
  'Detection-to-containment would also need when Entra ID Protection or Defender for Identity detected the risk; ' +
  'the audit does not carry detection times yet, so that part is not shown.'
