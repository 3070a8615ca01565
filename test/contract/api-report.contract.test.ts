import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

describe('API reports', () => {
  it("each package's built surface (dist/index.d.ts) is the one committed in review/<package>.api.md", () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'tools', 'api-report.mjs'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    })
    // On a failure, stderr names the packages: run `pnpm api` and review the change it makes.
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})
