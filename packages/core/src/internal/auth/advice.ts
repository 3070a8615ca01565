/** Plain advice for the AADSTS codes a scheduled job meets; the code itself stays in the error. */
const ADVICE: Record<string, string> = {
  '7000215':
    'the client secret is wrong: AZURE_CLIENT_SECRET must hold the secret value (not its id) of this app registration',
  '7000222':
    'the client secret has expired: rotate it with `pulumi up` (the infra stack issues a new one and stores it in Key Vault)',
  '700016':
    'the application (AZURE_CLIENT_ID) was not found in the tenant (AZURE_TENANT_ID): check both ids and that the app is consented there',
  '90002':
    'the tenant (AZURE_TENANT_ID) was not found: check the id, and that TOURNIQUET_CLOUD names the cloud the tenant lives in',
  '7000218':
    'no credential was sent: set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or use TOURNIQUET_AUTH=managed-identity',
  '700027':
    'the certificate assertion was rejected: upload this certificate to the app registration, or check its thumbprint',
  '700024': 'the client assertion is outside its valid time range: check the machine clock',
  '70011':
    'the requested scope is invalid: check TOURNIQUET_CLOUD (the scope is the cloud Graph resource + /.default)',
  '7000112': 'the application is disabled in this tenant: re-enable the service principal',
  '50034': 'the account was not found in the tenant: check AZURE_TENANT_ID',
  '53003': 'a Conditional Access policy blocked the token request for this workload identity',
}

export function aadstsCode(text: string): string | undefined {
  return /AADSTS(\d{5,7})/.exec(text)?.[1]
}

export function adviceFor(code: string | undefined): string {
  // Own keys only: a code is digits today, but `ADVICE['constructor']` would be a function.
  const advice = code !== undefined && Object.hasOwn(ADVICE, code) ? ADVICE[code] : undefined
  if (advice !== undefined) return advice
  return 'check AZURE_TENANT_ID, AZURE_CLIENT_ID, the credential, and the cloud (TOURNIQUET_CLOUD / AZURE_AUTHORITY_HOST)'
}
