/**
 * From what Graph answered to the evaluator's signals: pure, so the runner's collection stays I/O
 * only. The inputs are structural (the shapes @tourniquet/core returns), not core's types: the
 * policy package depends on no other package of ours.
 */
import type { CredentialFact, ServicePrincipalSignals, WorkloadSignals } from './signals.js'

interface CredentialsIn {
  passwordCredentials: ReadonlyArray<{
    keyId: string
    displayName?: string | undefined
    hint?: string | undefined
    startDateTime?: string | undefined
  }>
  keyCredentials: ReadonlyArray<{
    keyId: string
    displayName?: string | undefined
    startDateTime?: string | undefined
  }>
}

export interface WorkloadCollection {
  tenantId: string
  self: WorkloadSignals['self']
  /** riskyServicePrincipals list answers. */
  risky: ReadonlyArray<{
    id: string
    appId?: string | undefined
    displayName?: string | undefined
    riskLevel: string
    riskState: string
    riskDetail?: string | undefined
  }>
  /** servicePrincipalRiskDetections in the lookback window. */
  detections: ReadonlyArray<{
    id: string
    servicePrincipalId: string
    riskEventType: string
    riskLevel?: string | undefined
    detectedDateTime: string
    keyIds?: readonly string[] | undefined
  }>
  /** Service principal object id -> the directory's answer, or the error reading it. */
  servicePrincipals: ReadonlyMap<
    string,
    | (CredentialsIn & {
        accountEnabled?: boolean | undefined
        servicePrincipalType?: string | undefined
        appOwnerOrganizationId?: string | null | undefined
      })
    | Error
  >
  /** appId -> the application object in this tenant, or the error (404: registered elsewhere). */
  applications: ReadonlyMap<string, (CredentialsIn & { id: string }) | Error>
  exclusions?: WorkloadSignals['exclusions']
}

function credentialFacts(c: CredentialsIn): CredentialFact[] {
  return [
    ...c.passwordCredentials.map((p) => ({
      kind: 'password' as const,
      keyId: p.keyId,
      displayName: p.displayName,
      hint: p.hint,
      startDateTime: p.startDateTime,
    })),
    ...c.keyCredentials.map((k) => ({
      kind: 'key' as const,
      keyId: k.keyId,
      displayName: k.displayName,
      startDateTime: k.startDateTime,
    })),
  ]
}

/** The evaluator's signals from the answers of one collection. */
export function workloadSignals(input: WorkloadCollection): WorkloadSignals {
  const bySp = new Map<string, ServicePrincipalSignals['detections'][number][]>()
  for (const d of input.detections) {
    const list = bySp.get(d.servicePrincipalId.toLowerCase()) ?? []
    list.push({
      id: d.id,
      riskEventType: d.riskEventType,
      riskLevel: d.riskLevel,
      detectedDateTime: d.detectedDateTime,
      keyIds: d.keyIds,
    })
    bySp.set(d.servicePrincipalId.toLowerCase(), list)
  }
  const principals: ServicePrincipalSignals[] = input.risky.map((r) => {
    const sp = input.servicePrincipals.get(r.id)
    const dir = sp === undefined || sp instanceof Error ? undefined : sp
    const app = r.appId === undefined ? undefined : input.applications.get(r.appId)
    return {
      servicePrincipalId: r.id,
      appId: r.appId,
      displayName: r.displayName,
      risk: { level: r.riskLevel, state: r.riskState, detail: r.riskDetail },
      detections: bySp.get(r.id.toLowerCase()) ?? [],
      // An enabled flag that was not returned is not "enabled": without it no route is chosen.
      directory:
        dir === undefined || dir.accountEnabled === undefined
          ? undefined
          : {
              accountEnabled: dir.accountEnabled,
              servicePrincipalType: dir.servicePrincipalType ?? 'Application',
              appOwnerOrganizationId: dir.appOwnerOrganizationId,
              credentials: credentialFacts(dir),
            },
      application:
        app === undefined || app instanceof Error
          ? undefined
          : { objectId: app.id, credentials: credentialFacts(app) },
    }
  })
  return {
    tenantId: input.tenantId,
    self: input.self,
    servicePrincipals: principals,
    exclusions: input.exclusions,
  }
}
