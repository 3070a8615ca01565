/**
 * Microsoft's Kusto language service (@kusto/language-service-next, Kusto.Language compiled to
 * JavaScript with Bridge.NET), loaded for tests: it parses a query and binds every name to a schema,
 * so a syntax error or a column the table does not have is reported without a workspace.
 *
 * The package is two global scripts (the Bridge runtime, then Kusto.Language), not a module, and
 * its .d.ts declares global namespaces that would leak into every file of this tsconfig; so the few
 * members used here are typed below, as Kusto.Language.Bridge.d.ts declares them:
 * KustoCode.ParseAndAnalyze(text, globals), GlobalState.Default.WithDatabase(db),
 * DatabaseSymbol.ctor(name, members), TableSymbol.$ctor7(name, schema, description),
 * KustoCode.GetDiagnostics() (an IReadOnlyList: Count, getItem; Severity is a DiagnosticSeverity
 * name such as "Error").
 */
import { createRequire } from 'node:module'

export interface KustoDiagnostic {
  Severity: string
  Code: string
  Message: string
  Start: number
  Length: number
}

interface ReadOnlyList<T> {
  Count: number
  getItem(index: number): T
}

interface KustoLanguage {
  KustoCode: {
    ParseAndAnalyze(text: string, globals: unknown): { GetDiagnostics(): ReadOnlyList<KustoDiagnostic> }
  }
  GlobalState: { Default: { WithDatabase(database: unknown): unknown } }
  Symbols: {
    DatabaseSymbol: { ctor: new (name: string, members: unknown[]) => unknown }
    TableSymbol: { $ctor7: new (name: string, schema: string, description: string | null) => unknown }
  }
}

function load(): KustoLanguage {
  const require = createRequire(import.meta.url)
  require('@kusto/language-service-next/bridge.min.js')
  require('@kusto/language-service-next/Kusto.Language.Bridge.min.js')
  return (globalThis as unknown as { Kusto: { Language: KustoLanguage } }).Kusto.Language
}

/** A table's columns as Kusto schema text: `name:type` (string, long, int, real, datetime, dynamic). */
export type Columns = Record<string, string>

/** Parses and analyzes `query` against one database of the tables given; returns every diagnostic. */
export function analyzer(tables: Record<string, Columns>): (query: string) => KustoDiagnostic[] {
  const kusto = load()
  const { TableSymbol, DatabaseSymbol } = kusto.Symbols
  const symbols = Object.entries(tables).map(
    ([name, columns]) =>
      new TableSymbol.$ctor7(
        name,
        `(${Object.entries(columns)
          .map(([c, t]) => `${c}:${t}`)
          .join(', ')})`,
        null,
      ),
  )
  const globals = kusto.GlobalState.Default.WithDatabase(new DatabaseSymbol.ctor('workspace', symbols))
  return (query) => {
    const list = kusto.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics()
    return Array.from({ length: list.Count }, (_, i) => list.getItem(i))
  }
}

/** Only the diagnostics of error severity, as "code message: the text it points at". */
export function errorsIn(query: string, diagnostics: KustoDiagnostic[]): string[] {
  return diagnostics
    .filter((d) => d.Severity === 'Error')
    .map((d) => `${d.Code} ${d.Message}: ${JSON.stringify(query.slice(d.Start, d.Start + d.Length))}`)
}
