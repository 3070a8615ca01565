/**
 * tourniquet <command>: what the container runs (started by cli.ts once the Node version is known to fit). Exit codes: 0 success or plan only; 1 some steps
 * failed; 2 configuration, policy or authentication error (nothing done); 3 a guardrail refused the
 * run (nothing done). Errors are one clear message, never a stack trace.
 */
import { parseArgs } from 'node:util'
import { formatPolicyTestReport, isPolicyError, policyJsonSchema, runPolicyTests } from '@tourniquet/policy'
import { runJob } from './commands/run.js'
import { loadConfig, loadTrailConfig, type RunnerConfig, type TrailConfig } from './env.js'
import { isSettingsError } from './errors.js'
import { EXIT } from './exit.js'
import { settingsHelp } from './settings.js'

const HELP = `tourniquet: contain compromised identities by policy (Microsoft Entra ID, Defender for Identity)

usage:
  tourniquet run [--apply] [--policy FILE] [--ledger PATH|URL] [--report FILE]
                                 plan (the default: a dry run) or apply the policy to the tenant
  tourniquet watch [--apply] [--policy FILE] [--ledger PATH|URL]
                                 run again every TOURNIQUET_WATCH_INTERVAL (default 15 s) until SIGTERM
  tourniquet doctor [--policy FILE] [--ledger PATH|URL]
                                 read-only preflight: sign-in, permissions, licences, APIs, ledger
                                 (exit 0 ready, 1 something missing, 2 configuration or sign-in)
  tourniquet approvals [--ledger PATH|URL]
                                 list the steps that wait for a person's approval; the trail
                                 commands need no app credential: file trails no sign-in, blob
                                 trails your own (az login)
  tourniquet approve --run RUN_ID (--user UPN_OR_ID | --all) [--action ACTION] [--reason TEXT] [--by NAME]
  tourniquet reject --run RUN_ID (--user UPN_OR_ID | --all) [--action ACTION] [--reason TEXT] [--by NAME]
                                 record a decision as the signed-in identity (--by is a declared
                                 note beside it); the next run acts on approved steps once; a
                                 rejection stops an approved step that was not sent yet
  tourniquet undo --run RUN_ID [--apply]
                                 re-enable the accounts that run disabled (plan first, --apply to act)
  tourniquet policy test PATH    run the policy case files (*.cases.yaml) under PATH
  tourniquet policy schema       print the policy file's JSON Schema
  tourniquet demo [--scenario NAME]
                                 plan and apply against a built-in fake tenant (no Azure needed)

${settingsHelp()}

exit codes: 0 ok or plan only, 1 some steps failed, 2 configuration/policy/authentication error,
3 a guardrail refused the run.
`

function usage(message: string): number {
  process.stderr.write(`tourniquet: ${message}\n\n${HELP}`)
  return EXIT.configuration
}

const OPTIONS = {
  apply: { type: 'boolean' },
  policy: { type: 'string' },
  ledger: { type: 'string' },
  report: { type: 'string' },
  run: { type: 'string' },
  scenario: { type: 'string' },
  user: { type: 'string' },
  action: { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

interface Args {
  values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values']
  /** The words after the command: `policy test PATH` gives ['test', 'PATH']. */
  words: string[]
}

type Command = (args: Args) => Promise<number>

const COMMANDS: Readonly<Record<string, Command>> = {
  run: (args) => runOrUndo('run', args),
  undo: (args) => runOrUndo('undo', args),
  approvals: async (args) => {
    const config = trailConfigFrom(args)
    if (!config) return EXIT.configuration
    const { listApprovals } = await import('./commands/approvals.js')
    return listApprovals(config, process.stdout, process.stderr)
  },
  approve: (args) => decideCommand('approved', args),
  reject: (args) => decideCommand('rejected', args),
  watch: withConfig(async (config) => {
    const { runWatch } = await import('./commands/watch.js')
    return runWatch({ config, out: process.stdout, err: process.stderr, stopSignal: stopOnSignal() })
  }),
  doctor: withConfig(async (config) => {
    const { runDoctor } = await import('./commands/doctor.js')
    return runDoctor({ config, out: process.stdout, err: process.stderr })
  }),
  policy: policyCommand,
  demo: async ({ values }) => {
    const { runDemo } = await import('./commands/demo.js')
    return runDemo({ scenario: values.scenario })
  },
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS })
  } catch (e) {
    return usage((e as Error).message)
  }
  const [command = 'run', ...words] = parsed.positionals
  if (parsed.values.help || command === 'help') {
    process.stdout.write(HELP)
    return EXIT.ok
  }
  const run = COMMANDS[command]
  return run ? run({ values: parsed.values, words }) : usage(`unknown command '${command}'`)
}

async function policyCommand({ words: [sub, path] }: Args): Promise<number> {
  if (sub === 'schema') {
    process.stdout.write(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`)
    return EXIT.ok
  }
  if (sub !== 'test') return usage(`unknown policy command '${sub ?? ''}'; expected test or schema`)
  if (!path) return usage('policy test needs a PATH (a directory or a *.cases.yaml file)')
  try {
    const report = await runPolicyTests(path)
    process.stdout.write(`${formatPolicyTestReport(report)}\n`)
    return report.failed > 0 ? EXIT.stepsFailed : EXIT.ok
  } catch (e) {
    if (!isPolicyError(e)) throw e
    process.stderr.write(`tourniquet: ${e.message}\n`)
    return EXIT.configuration
  }
}

/** The settings from the environment and the flags; undefined (reported) when they cannot be used. */
function configFrom({ values }: Args): RunnerConfig | undefined {
  try {
    return loadConfig({
      policy: values.policy,
      ledger: values.ledger,
      report: values.report,
      mode: values.apply ? 'apply' : undefined,
    })
  } catch (e) {
    if (!isSettingsError(e)) throw e
    const problems = e.problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')
    process.stderr.write(`tourniquet: configuration error, nothing done:\n${problems}\n`)
    return undefined
  }
}

/**
 * The trail commands' settings: where the trails are, no app credential (an approver is a person,
 * not the remediation app). Undefined (reported) when they cannot be used.
 */
function trailConfigFrom({ values }: Args): TrailConfig | undefined {
  try {
    return loadTrailConfig({ policy: values.policy, ledger: values.ledger })
  } catch (e) {
    if (!isSettingsError(e)) throw e
    const problems = e.problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')
    process.stderr.write(`tourniquet: configuration error, nothing done:\n${problems}\n`)
    return undefined
  }
}

/** A command that needs the settings: a configuration error is reported and exits 2 before it runs. */
function withConfig(command: (config: RunnerConfig, args: Args) => Promise<number>): Command {
  return async (args) => {
    const config = configFrom(args)
    return config ? command(config, args) : EXIT.configuration
  }
}

async function decideCommand(decision: 'approved' | 'rejected', args: Args): Promise<number> {
  const config = trailConfigFrom(args)
  if (!config) return EXIT.configuration
  const { run, user, all, action, reason, by } = args.values
  if (typeof run !== 'string' || run === '')
    return usage(
      `${decision === 'approved' ? 'approve' : 'reject'} needs --run RUN_ID (see tourniquet approvals)`,
    )
  const { decide } = await import('./commands/approvals.js')
  return decide(
    config,
    { runId: run, user, all, action, reason, by },
    decision,
    process.stdout,
    process.stderr,
  )
}

/** SIGTERM (Container Apps stopping the job): finish in-flight steps, record them, then exit. */
function stopOnSignal(): AbortSignal {
  const stop = new AbortController()
  const onTerm = (): void => {
    process.stderr.write('tourniquet: SIGTERM: finishing in-flight steps, starting nothing new\n')
    stop.abort()
  }
  process.once('SIGTERM', onTerm)
  process.once('SIGINT', onTerm)
  return stop.signal
}

async function runOrUndo(command: 'run' | 'undo', args: Args): Promise<number> {
  const config = configFrom(args)
  if (!config) return EXIT.configuration
  const stopSignal = stopOnSignal()
  const streams = { out: process.stdout, err: process.stderr, stopSignal }
  if (command === 'run') return (await runJob({ config, ...streams })).exitCode
  const runId = args.values.run
  if (typeof runId !== 'string' || runId === '')
    return usage('undo needs --run RUN_ID (the run whose disables to reverse)')
  const { runUndo } = await import('./commands/undo.js')
  return runUndo({ config, runId, ...streams })
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // Keep-alive sockets must not hold a finished job open.
    setTimeout(() => process.exit(code), 100).unref()
  },
  (e: unknown) => {
    process.stderr.write(`tourniquet: unexpected failure: ${(e as Error)?.message ?? String(e)}\n`)
    process.exit(EXIT.stepsFailed)
  },
)
