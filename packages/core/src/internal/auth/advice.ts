/**
 * Plain advice for the AADSTS codes a scheduled job meets; the code itself stays in the error. It
 * names only this client's own options (tenantId, clientId, the credential, cloud, authorityHost): an
 * application maps `AuthError.aadsts` to advice in its own terms (how its settings are named, how
 * its secrets are rotated).
 */
const ADVICE: Record<string, string> = {
  '7000215': 'the client secret is wrong: it must be the secret value (not its id) of this app registration',
  '7000222': 'the client secret has expired: issue a new one for this app registration',
  '700016':
    'the application (clientId) was not found in the tenant (tenantId): check both ids and that the app is consented there',
  '90002':
    'the tenant (tenantId) was not found: check the id, and that cloud names the cloud the tenant lives in',
  '7000218': 'no credential was sent: give a client secret, a certificate, or a managed identity',
  '700027':
    'the certificate assertion was rejected: upload this certificate to the app registration, or check its thumbprint',
  '700024': 'the client assertion is outside its valid time range: check the machine clock',
  '70011': 'the requested scope is invalid: check cloud (the scope is the cloud Graph resource + /.default)',
  '7000112': 'the application is disabled in this tenant: re-enable the service principal',
  '50034': 'the account was not found in the tenant: check tenantId',
  '53003': 'a Conditional Access policy blocked the token request for this workload identity',
}

export function aadstsCode(text: string): string | undefined {
  return /AADSTS(\d{5,7})/.exec(text)?.[1]
}

export function adviceFor(code: string | undefined): string {
  // Own keys only: a code is digits today, but `ADVICE['constructor']` would be a function.
  const advice = code !== undefined && Object.hasOwn(ADVICE, code) ? ADVICE[code] : undefined
  if (advice !== undefined) return advice
  return 'check tenantId, clientId, the credential, and the cloud (cloud / authorityHost)'
}
