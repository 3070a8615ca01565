import * as pulumi from '@pulumi/pulumi'
import { describe, expect, it } from 'vitest'
import { afterRolePropagation } from '../src/propagation.js'

const assignment = (createdOn: string | undefined) =>
  ({ createdOn: pulumi.output(createdOn) }) as unknown as Parameters<typeof afterRolePropagation>[1][number]
const settle = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply((v) => r(v)))

describe('waiting for role assignments to propagate', () => {
  it('does not wait for assignments that already existed (older than the wait)', async () => {
    const t0 = Date.now()
    const value = await settle(afterRolePropagation('env-id', [assignment('2026-01-01T00:00:00Z')], 600))
    expect(value).toBe('env-id')
    expect(Date.now() - t0).toBeLessThan(1_000)
  })

  it('waits out the rest of the window after the newest assignment', async () => {
    const created = new Date(Date.now() - 500).toISOString()
    const t0 = Date.now()
    await settle(
      afterRolePropagation('env-id', [assignment('2026-01-01T00:00:00Z'), assignment(created)], 1.5),
    )
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800)
  })

  it('passes the value through when no creation time is known', async () => {
    expect(await settle(afterRolePropagation('env-id', [assignment(undefined)], 600))).toBe('env-id')
  })
})
