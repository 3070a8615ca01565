/**
 * Workload identities for the fake tenant: service principals of every kind the policy routes
 * differently, their app registrations and credentials, and their risk. Deterministic: ids are
 * fixed, times are relative to `now`.
 */
import type { MockKeyCredential, MockPasswordCredential, MockServicePrincipal } from './model.js'
import type { Tenant } from './tenant.js'

/** The Graph application permissions the workload-identity actions need, on top of FULL_ROLES. */
export const WORKLOAD_ROLES = [
  'IdentityRiskyServicePrincipal.Read.All',
  'IdentityRiskyServicePrincipal.ReadWrite.All',
  'Application.Read.All',
  'Application.ReadWrite.All',
]

/** Another tenant, the owner of a multi-tenant app this tenant consented to. */
export const OTHER_TENANT_ID = '0f4e0000-0000-4000-a000-0000000f4e00'

/** The seeded workload identities, by what each one exercises. */
export const WORKLOAD_IDS = {
  /** This tenant's own app, at risk from a leaked secret: every action applies. */
  singleTenant: {
    spId: '5b1e0000-0000-4000-a000-0000000005b1',
    appId: '5b1e0000-0000-4000-a000-0000000a5b1e',
    appObjectId: '5b1e0000-0000-4000-a000-0000000a0b1e',
  },
  /** Another tenant's multi-tenant app: only disable here, its credentials live there. */
  multiTenant: {
    spId: '3e7a0000-0000-4000-a000-0000000003e7',
    appId: '3e7a0000-0000-4000-a000-0000000a03e7',
  },
  /** A managed identity: no credentials to remove, reported and skipped. */
  managedIdentity: {
    spId: '3a1d0000-0000-4000-a000-0000000003a1',
    appId: '3a1d0000-0000-4000-a000-0000000a03a1',
  },
  /** This tenant's app that policies exclude by appId. */
  excluded: {
    spId: 'e8c10000-0000-4000-a000-0000000000e8',
    appId: 'e8c1d000-0000-4000-a000-0000000a00e8',
    appObjectId: 'e8c1d000-0000-4000-a000-0000000a0be8',
  },
  /** The remediation app's own service principal, at risk too: it must never be touched. */
  self: { spId: 'a11c0000-0000-4000-a000-00000000005e' },
} as const

const DAY = 86_400_000

function password(
  keyId: string,
  name: string,
  startedAt: number,
  secretText: string,
): MockPasswordCredential {
  return {
    keyId,
    displayName: name,
    hint: secretText.slice(0, 3),
    startDateTime: new Date(startedAt).toISOString(),
    endDateTime: new Date(startedAt + 365 * DAY).toISOString(),
    secretText,
  }
}

function key(keyId: string, name: string, startedAt: number): MockKeyCredential {
  return {
    keyId,
    displayName: name,
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    startDateTime: new Date(startedAt).toISOString(),
    endDateTime: new Date(startedAt + 365 * DAY).toISOString(),
    key: Buffer.from(`mock certificate ${keyId}`).toString('base64'),
  }
}

function servicePrincipal(
  sp: Partial<MockServicePrincipal> & Pick<MockServicePrincipal, 'id' | 'appId' | 'displayName'>,
): MockServicePrincipal {
  return {
    appOwnerOrganizationId: null,
    servicePrincipalType: 'Application',
    accountEnabled: true,
    passwordCredentials: [],
    keyCredentials: [],
    owners: [],
    ...sp,
  }
}

/**
 * Seeds the workload identities above: a single-tenant app with an old and a new secret and a new
 * certificate (the new ones within the last day), a leaked-credentials detection naming the new
 * secret; another tenant's multi-tenant app with suspicious sign-ins; a managed identity at risk;
 * an app to exclude; and the remediation app's own service principal at risk.
 */
export function seedWorkloadIdentities(tenant: Tenant, now: number, selfAppId: string): void {
  const ids = WORKLOAD_IDS
  const recent = now - 6 * 3_600_000
  const old = now - 200 * DAY
  const st = ids.singleTenant
  const stPasswords = [
    password('01d00000-0000-4000-a000-000000000001', 'deploy (old)', old, 'Abc~old-mock-secret-not-real-1'),
    password(
      '4e400000-0000-4000-a000-000000000002',
      'added by attacker',
      recent,
      'Xyz~new-mock-secret-not-real-2',
    ),
  ]
  const stKeys = [key('c4e70000-0000-4000-a000-00000000c001', 'CN=contoso-build', recent)]
  tenant.applications.set(st.appObjectId, {
    id: st.appObjectId,
    appId: st.appId,
    displayName: 'contoso-build',
    passwordCredentials: stPasswords,
    keyCredentials: stKeys,
    owners: [],
  })
  tenant.servicePrincipals.set(
    st.spId,
    servicePrincipal({
      id: st.spId,
      appId: st.appId,
      displayName: 'contoso-build',
      appOwnerOrganizationId: tenant.tenantId,
      passwordCredentials: [
        password(
          '5b0a0000-0000-4000-a000-000000000003',
          'sp secret',
          recent,
          'Spq~sp-mock-secret-not-real-3',
        ),
      ],
    }),
  )
  tenant.detectServicePrincipal(st.spId, {
    type: 'leakedCredentials',
    level: 'high',
    detectedAt: now - 2 * 3_600_000,
    keyIds: ['4e400000-0000-4000-a000-000000000002'],
  })

  const mt = ids.multiTenant
  tenant.servicePrincipals.set(
    mt.spId,
    servicePrincipal({
      id: mt.spId,
      appId: mt.appId,
      displayName: 'fabrikam-sync',
      appOwnerOrganizationId: OTHER_TENANT_ID,
    }),
  )
  tenant.detectServicePrincipal(mt.spId, {
    type: 'suspiciousSignins',
    level: 'medium',
    detectedAt: now - 3_600_000,
  })

  const mi = ids.managedIdentity
  tenant.servicePrincipals.set(
    mi.spId,
    servicePrincipal({
      id: mi.spId,
      appId: mi.appId,
      displayName: 'job-identity',
      servicePrincipalType: 'ManagedIdentity',
      appOwnerOrganizationId: null,
    }),
  )
  tenant.detectServicePrincipal(mi.spId, {
    type: 'anomalousServicePrincipalActivity',
    level: 'high',
    detectedAt: now - 3_600_000,
  })

  const ex = ids.excluded
  tenant.applications.set(ex.appObjectId, {
    id: ex.appObjectId,
    appId: ex.appId,
    displayName: 'payroll-connector',
    passwordCredentials: [
      password('e8c10000-0000-4000-a000-000000000004', 'connector', recent, 'Pay~mock-secret-not-real-4'),
    ],
    keyCredentials: [],
    owners: [],
  })
  tenant.servicePrincipals.set(
    ex.spId,
    servicePrincipal({
      id: ex.spId,
      appId: ex.appId,
      displayName: 'payroll-connector',
      appOwnerOrganizationId: tenant.tenantId,
    }),
  )
  tenant.detectServicePrincipal(ex.spId, {
    type: 'leakedCredentials',
    level: 'high',
    detectedAt: now - 3_600_000,
  })

  tenant.servicePrincipals.set(
    ids.self.spId,
    servicePrincipal({
      id: ids.self.spId,
      appId: selfAppId,
      displayName: 'tourniquet-remediation',
      appOwnerOrganizationId: tenant.tenantId,
    }),
  )
  tenant.detectServicePrincipal(ids.self.spId, {
    type: 'suspiciousSignins',
    level: 'high',
    detectedAt: now - 3_600_000,
  })
}
