#!/usr/bin/env node
/**
 * The executable. It checks the Node version before anything else loads: undici and msal need
 * Node 24, and on an older Node they fail at import with a stack trace instead of advice. So this
 * file imports nothing of ours statically (ESM would load those imports first) and stays plain
 * enough for any Node to parse.
 */
import { EXIT } from './exit.js'

const REQUIRED_MAJOR = 24

const major = Number(process.versions.node.split('.')[0])
if (major < REQUIRED_MAJOR) {
  process.stderr.write(
    `tourniquet: Node.js ${REQUIRED_MAJOR} or later is required; this is Node.js ${process.versions.node} (${process.execPath}).\n` +
      `  From a clone of the repository, run it as \`pnpm tourniquet <command>\`: pnpm runs the pinned Node ${REQUIRED_MAJOR} (the \`node\` devDependency).\n` +
      `  Otherwise install Node.js ${REQUIRED_MAJOR} LTS (https://nodejs.org/en/download, or \`nvm install ${REQUIRED_MAJOR}\`), or run the container image.\n`,
  )
  process.exitCode = EXIT.configuration
} else {
  await import('./main.js')
}
