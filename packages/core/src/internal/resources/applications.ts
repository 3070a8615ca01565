import type { GraphHttp } from '../graphHttp.js'
import { literal } from '../odata.js'
import { type Application, applicationSchema } from '../schemas.js'
import type { Batch, BatchItem, BatchItemResult } from './batch.js'
import { parseItem } from './batch.js'
import {
  type CredentialRemoval,
  type CredentialSelection,
  removeCredentials,
  removePassword,
  type WriteResult,
} from './credentials.js'

export const APPLICATION_SELECT = [
  'id',
  'appId',
  'displayName',
  'passwordCredentials',
  'keyCredentials',
] as const

const byAppId = (appId: string): string => `/applications(appId=${encodeURIComponent(literal(appId))})`

/** Batch items for applications: one application object per appId. */
export const applicationItems = {
  getByAppId: (appId: string, itemId = appId): BatchItem => ({
    id: itemId,
    method: 'GET',
    url: `${byAppId(appId)}?$select=${APPLICATION_SELECT.join(',')}`,
    operation: 'applications.get',
  }),
}

function parsed(result: BatchItemResult): Application | Error {
  try {
    return parseItem(result, applicationSchema)
  } catch (error) {
    return error as Error
  }
}

export interface CallOptions {
  signal?: AbortSignal | undefined
}

/**
 * Application registrations, for the credentials they hold. Only an app registered in this tenant
 * has its application object here: another tenant's multi-tenant app answers 404.
 */
export class Applications {
  constructor(
    private readonly http: GraphHttp,
    private readonly batch: Batch,
  ) {}

  /**
   * Reads the application objects of many appIds through `$batch`, yielding each (or its error: a
   * 404 for an app registered in another tenant) as its batch answers.
   */
  async *getEachByAppId(
    appIds: readonly string[],
    options: CallOptions = {},
  ): AsyncGenerator<[string, Application | Error], void, undefined> {
    const items = [...new Set(appIds)].map((appId) => applicationItems.getByAppId(appId))
    for await (const round of this.batch.stream(items, options)) {
      for (const r of round) yield [r.id, r.error ?? parsed(r)]
    }
  }

  /** The application object of an appId (`GET /applications(appId='{appId}')`). */
  async getByAppId(appId: string, options: CallOptions = {}): Promise<Application> {
    const { data } = await this.http.call({
      operation: 'applications.get',
      method: 'GET',
      url: this.http.url(byAppId(appId), {
        $select: APPLICATION_SELECT.join(','),
      }),
      schema: applicationSchema,
      signal: options.signal,
    })
    return data
  }

  /** Removes one password credential of the application (its object id) by keyId (application-removepassword.md). Not undoable. */
  removePassword(
    applicationObjectId: string,
    keyId: string,
    options: CallOptions = {},
  ): Promise<WriteResult> {
    return removePassword(
      this.http,
      `/applications/${encodeURIComponent(applicationObjectId)}`,
      keyId,
      'applications.removePassword',
      options.signal,
    )
  }

  /**
   * Removes the selected password and key credentials of the application registration of `appId`:
   * what every service principal of the app signs in with. Not undoable.
   */
  async removeCredentials(
    appId: string,
    selection: CredentialSelection,
    options: CallOptions = {},
  ): Promise<CredentialRemoval> {
    const app = await this.getByAppId(appId, options)
    return removeCredentials(
      this.http,
      `/applications/${encodeURIComponent(app.id)}`,
      app.id,
      app,
      selection,
      { removePassword: 'applications.removePassword', removeKeys: 'applications.removeKeys' },
      options.signal,
    )
  }
}
