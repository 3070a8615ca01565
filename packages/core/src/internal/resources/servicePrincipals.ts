import { isGraphError } from '../../errors.js'
import type { GraphHttp } from '../graphHttp.js'
import { literal } from '../odata.js'
import { type ServicePrincipal, servicePrincipalSchema } from '../schemas.js'
import type { Batch, BatchItem, BatchItemResult } from './batch.js'
import { parseItem } from './batch.js'
import {
  type CredentialRemoval,
  type CredentialSelection,
  DIRECTORY_WRITE,
  removeCredentials,
  removePassword,
} from './credentials.js'

/**
 * What routing needs about a service principal: its app and the tenant that owns the app (a
 * multi-tenant app of another tenant has its credentials there), its type (managed identities have
 * no credentials to remove), whether it is enabled, and its credentials' metadata.
 */
export const SERVICE_PRINCIPAL_SELECT = [
  'id',
  'appId',
  'displayName',
  'appOwnerOrganizationId',
  'servicePrincipalType',
  'accountEnabled',
  'passwordCredentials',
  'keyCredentials',
] as const

export interface WriteResult {
  requestId: string | undefined
  clientRequestId: string | undefined
}

export interface CallOptions {
  signal?: AbortSignal | undefined
}

const spPath = (id: string): string => `/servicePrincipals/${encodeURIComponent(id)}`

/** Batch items for service principals, so the runner can read and write many through `$batch`. */
export const servicePrincipalItems = {
  get: (id: string, select: readonly string[] = SERVICE_PRINCIPAL_SELECT, itemId = id): BatchItem => ({
    id: itemId,
    method: 'GET',
    url: `${spPath(id)}?$select=${select.join(',')}`,
    operation: 'servicePrincipals.get',
  }),
  setAccountEnabled: (id: string, enabled: boolean, itemId = id): BatchItem => ({
    id: itemId,
    method: 'PATCH',
    url: spPath(id),
    body: { accountEnabled: enabled },
    operation: 'servicePrincipals.setAccountEnabled',
    idempotent: true,
    throttle: DIRECTORY_WRITE,
  }),
}

function parsed(result: BatchItemResult): ServicePrincipal | Error {
  try {
    return parseItem(result, servicePrincipalSchema)
  } catch (error) {
    return error as Error
  }
}

/** Service principals in the directory: read, disable/enable, remove their own credentials. */
export class ServicePrincipals {
  constructor(
    private readonly http: GraphHttp,
    private readonly batch: Batch,
  ) {}

  /**
   * Reads many service principals through `$batch` and yields each (or the error for that id) as
   * its batch answers: the directory facts of every risky service principal in rounds of 20.
   */
  async *getEach(
    ids: readonly string[],
    options: CallOptions & { select?: readonly string[] } = {},
  ): AsyncGenerator<[string, ServicePrincipal | Error], void, undefined> {
    const items = [...new Set(ids)].map((id) => servicePrincipalItems.get(id, options.select))
    for await (const round of this.batch.stream(items, options)) {
      for (const r of round) yield [r.id, r.error ?? parsed(r)]
    }
  }

  /** One service principal by object id (`GET /servicePrincipals/{id}`). */
  async get(
    id: string,
    options: CallOptions & { select?: readonly string[] } = {},
  ): Promise<ServicePrincipal> {
    const { data } = await this.http.call({
      operation: 'servicePrincipals.get',
      method: 'GET',
      url: this.http.url(spPath(id), { $select: (options.select ?? SERVICE_PRINCIPAL_SELECT).join(',') }),
      schema: servicePrincipalSchema,
      signal: options.signal,
    })
    return data
  }

  /**
   * One service principal by its app's id (`GET /servicePrincipals(appId='{appId}')`, documented on
   * the get page): how an exclusion by appId is resolved to an object id.
   */
  async getByAppId(
    appId: string,
    options: CallOptions & { select?: readonly string[] } = {},
  ): Promise<ServicePrincipal> {
    const { data } = await this.http.call({
      operation: 'servicePrincipals.get',
      method: 'GET',
      url: this.http.url(`/servicePrincipals(appId=${encodeURIComponent(literal(appId))})`, {
        $select: (options.select ?? SERVICE_PRINCIPAL_SELECT).join(','),
      }),
      schema: servicePrincipalSchema,
      signal: options.signal,
    })
    return data
  }

  /**
   * The object id of the service principal an exclusion names, by object id or by appId (a policy
   * cannot tell the two GUIDs apart): the object id first, then the appId. null when neither names
   * one (404 both times); any other error is thrown, since an exclusion that cannot be checked must
   * not be taken as resolved.
   */
  async resolve(idOrAppId: string, options: CallOptions = {}): Promise<string | null> {
    const notFound = (e: unknown): boolean => isGraphError(e) && e.status === 404
    try {
      return (await this.get(idOrAppId, { ...options, select: ['id', 'appId'] })).id
    } catch (error) {
      if (!notFound(error)) throw error
    }
    try {
      return (await this.getByAppId(idOrAppId, { ...options, select: ['id', 'appId'] })).id
    } catch (error) {
      if (notFound(error)) return null
      throw error
    }
  }

  /**
   * Disables (false) or re-enables (true) the service principal in this tenant with PATCH
   * accountEnabled (serviceprincipal-update.md). A disabled service principal gets no tokens here;
   * for another tenant's multi-tenant app this is all this tenant can do.
   */
  async setAccountEnabled(id: string, enabled: boolean, options: CallOptions = {}): Promise<WriteResult> {
    const { response } = await this.http.call({
      operation: 'servicePrincipals.setAccountEnabled',
      method: 'PATCH',
      url: this.http.url(spPath(id)),
      body: { accountEnabled: enabled },
      idempotent: true,
      throttle: DIRECTORY_WRITE,
      schema: undefined,
      signal: options.signal,
    })
    return { requestId: response.requestId, clientRequestId: response.clientRequestId }
  }

  /** Removes one password credential of the service principal by keyId (serviceprincipal-removepassword.md). Not undoable. */
  removePassword(id: string, keyId: string, options: CallOptions = {}): Promise<WriteResult> {
    return removePassword(this.http, spPath(id), keyId, 'servicePrincipals.removePassword', options.signal)
  }

  /**
   * Removes the selected password and key credentials of the service principal itself (not its
   * application's). Reads the service principal first: what is recorded of each removed credential
   * is its keyId and hint. Not undoable: a removed secret or certificate cannot be restored.
   */
  async removeCredentials(
    id: string,
    selection: CredentialSelection,
    options: CallOptions = {},
  ): Promise<CredentialRemoval> {
    const current = await this.get(id, {
      select: ['id', 'passwordCredentials', 'keyCredentials'],
      ...options,
    })
    return removeCredentials(
      this.http,
      spPath(current.id),
      current.id,
      current,
      selection,
      { removePassword: 'servicePrincipals.removePassword', removeKeys: 'servicePrincipals.removeKeys' },
      options.signal,
    )
  }
}
