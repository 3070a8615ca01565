import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type FakeAuthority, okToken, startFakeAuthority } from './support/fakeAuthority.js'
import { TENANT } from './support/fixtures.js'

const run = promisify(execFile)
const dist = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href

// NODE_EXTRA_CA_CERTS is read once at process start, so this runs the built package in a child
// Node (the same binary as the tests) with the variable set, and no CA passed in code.
describe('a private CA through NODE_EXTRA_CA_CERTS', () => {
  // Made once per run by test/support/pki.ts.
  const pki = inject('loopbackPki')
  let authority: FakeAuthority
  let dir: string

  beforeAll(async () => {
    authority = await startFakeAuthority(pki)
    authority.answer = () => okToken('child-token')
    dir = await mkdtemp(join(tmpdir(), 'tq-ca-'))
    await writeFile(join(dir, 'ca.pem'), pki.caPem)
    await writeFile(
      join(dir, 'child.mjs'),
      `import { createTokenProvider } from ${JSON.stringify(dist)}
const p = createTokenProvider({ tenantId: ${JSON.stringify(TENANT)}, clientId: 'app', credential: { kind: 'secret', clientSecret: 'child-secret-value' }, authorityHost: process.argv[2] })
try { const t = await p.getToken({ forceRefresh: false }); const expected = t.token === 'child-token'; console.log(expected ? 'GOT-EXPECTED' : 'UNEXPECTED') } catch (e) { console.log('ERR', e.code, e.message) } finally { await p.close() }
`,
    )
  })
  afterAll(async () => {
    await authority.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('trusts the authority when NODE_EXTRA_CA_CERTS names the CA', async () => {
    const { stdout } = await run(process.execPath, [join(dir, 'child.mjs'), authority.origin], {
      env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') },
    })
    expect(stdout.trim()).toBe('GOT-EXPECTED')
  })

  it('refuses the same authority without it', async () => {
    const { stdout } = await run(process.execPath, [join(dir, 'child.mjs'), authority.origin], {
      env: { PATH: process.env.PATH ?? '' },
    })
    expect(stdout).toMatch(/^ERR TQ_AUTH/)
  })
})
