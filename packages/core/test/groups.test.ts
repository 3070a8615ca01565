// groups through the whole client, against Graph answered by msw at the socket level.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { testClient } from './support/fixtures.js'
import { useGraphNetwork, V1 } from './support/graphNetwork.js'

const { network } = useGraphNetwork()

describe('groups', () => {
  it('pages transitive members', async () => {
    network.use(
      http.get(`${V1}/groups/:id/transitiveMembers`, ({ request }) => {
        const page = new URL(request.url).searchParams.get('$skiptoken')
        if (page === null) {
          return HttpResponse.json({
            value: [{ '@odata.type': '#microsoft.graph.user', id: 'a', userPrincipalName: 'a@c.com' }],
            '@odata.nextLink': `${V1}/groups/g/transitiveMembers?$skiptoken=2`,
          })
        }
        return HttpResponse.json({ value: [{ '@odata.type': '#microsoft.graph.group', id: 'nested' }] })
      }),
    )
    const client = testClient()
    const ids: string[] = []
    for await (const m of client.groups.transitiveMembers('g')) ids.push(m.id)
    expect(ids).toEqual(['a', 'nested'])
    await client.close()
  })
})
