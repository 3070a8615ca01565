/**
 * The workbook's content (serializedData): Azure Monitor workbooks' "Notebook/1.0" JSON, a markdown
 * item (type 1) and one Log Analytics query item (type 3, "KqlItem/1.0", queryType 0) per query,
 * each run against the workspace the workbook is attached to (sourceId / fallbackResourceIds).
 */
import {
  type AuditQuery,
  auditQueries,
  CONTAINMENT_NOTE,
  DECISIONS_NOTE,
  type DecisionLogNames,
  decisionQueries,
  type RunnerNames,
} from './queries.js'

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000

const text = (name: string, json: string) => ({ type: 1, name, content: { json } })

const kql = (name: string, q: AuditQuery) => ({
  type: 3,
  name,
  content: {
    version: 'KqlItem/1.0',
    title: q.title,
    query: q.query,
    size: 0,
    queryType: 0,
    resourceType: 'microsoft.operationalinsights/workspaces',
    visualization: q.visualization,
    timeContext: { durationMs: SEVEN_DAYS_MS },
  },
})

export function workbookContent(
  names: RunnerNames,
  decisions: DecisionLogNames,
  workspaceId: string,
): string {
  const items = [
    text(
      'about',
      `## Tourniquet: job \`${names.jobName}\` or watcher \`${names.appName}\`\nFrom the runner's audit lines in Log Analytics (last 7 days).`,
    ),
    ...Object.entries(auditQueries(names)).map(([name, q]) => kql(name, q)),
    text('containment-note', CONTAINMENT_NOTE),
    text('decisions-note', DECISIONS_NOTE),
    ...Object.entries(decisionQueries(decisions)).map(([name, q]) => kql(name, q)),
  ]
  return JSON.stringify({ version: 'Notebook/1.0', items, fallbackResourceIds: [workspaceId] })
}
