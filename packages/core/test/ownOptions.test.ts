import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = join(import.meta.dirname, '..', 'src')

/**
 * Core names only its own options (tenantId, clientId, cloud, authorityHost, deadlineAt, ...). An
 * application's settings and its way of deploying (the runner's environment variables, `pulumi up`)
 * belong to the application, which maps core's codes to its own advice.
 */
const FOREIGN = /\b(?:TOURNIQUET_[A-Z_]+|AZURE_[A-Z_]+)\b|pulumi/gi

/** The code of a source file without its comments: what can end up in a message. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

async function sources(): Promise<Array<{ file: string; text: string }>> {
  const files = (await readdir(SRC, { recursive: true })).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  )
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(join(SRC, file), 'utf8') })))
}

describe("core's messages name only core's own options", () => {
  it('no source file of core names a runner environment variable or pulumi outside a comment', async () => {
    const files = await sources()
    expect(files.length).toBeGreaterThan(20)
    const found = files.flatMap(({ file, text }) =>
      [...code(text).matchAll(FOREIGN)].map((m) => `${file}: ${m[0]}`),
    )
    expect(found).toEqual([])
  })

  it('the scan sees a foreign name in a message and ignores one in a comment', () => {
    const sample = "// TOURNIQUET_CLOUD\nthrow new Error('set AZURE_TENANT_ID, then `pulumi up`')\n"
    expect([...code(sample).matchAll(FOREIGN)].map((m) => m[0])).toEqual(['AZURE_TENANT_ID', 'pulumi'])
  })
})
