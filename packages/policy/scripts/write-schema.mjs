// Writes policy.schema.json (for editors) from the zod schema; a test keeps the two in step.
import { writeFileSync } from 'node:fs'
import { policyJsonSchema } from '../dist/index.js'

writeFileSync(
  new URL('../policy.schema.json', import.meta.url),
  `${JSON.stringify(policyJsonSchema(), null, 2)}\n`,
)
