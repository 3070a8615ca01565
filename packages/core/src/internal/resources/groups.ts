import type { GraphHttp } from '../graphHttp.js'
import { items, type PageOptions } from '../paging.js'
import { type DirectoryObject, directoryObjectSchema } from '../schemas.js'

export class Groups {
  constructor(private readonly http: GraphHttp) {}

  /** Every member of the group, nested groups expanded (users, devices, service principals alike). */
  transitiveMembers(groupId: string, options: PageOptions = {}): AsyncGenerator<DirectoryObject> {
    const url = this.http.url(`/groups/${encodeURIComponent(groupId)}/transitiveMembers`, {
      $select: 'id,userPrincipalName',
      $top: '999',
    })
    return items(this.http, 'groups.transitiveMembers', url, directoryObjectSchema, options)
  }
}
