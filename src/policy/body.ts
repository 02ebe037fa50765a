/**
 * Typed reads of a decoded body. go-json.ts has already checked every known
 * field's JSON type, so these only narrow; `null` reads as absent, which is
 * what it means to the daemon.
 */

export type Obj = Record<string, unknown>

export function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function objAt (o: Obj | undefined, key: string): Obj | undefined {
  const v = o?.[key]
  return isObj(v) ? v : undefined
}

export function strAt (o: Obj | undefined, key: string): string | undefined {
  const v = o?.[key]
  return typeof v === 'string' ? v : undefined
}

export function numAt (o: Obj | undefined, key: string): number | undefined {
  const v = o?.[key]
  return typeof v === 'number' ? v : undefined
}

export function boolAt (o: Obj | undefined, key: string): boolean | undefined {
  const v = o?.[key]
  return typeof v === 'boolean' ? v : undefined
}

export function listAt (o: Obj | undefined, key: string): unknown[] | undefined {
  const v = o?.[key]
  return Array.isArray(v) ? v : undefined
}

export function stringsAt (o: Obj | undefined, key: string): string[] {
  return (listAt(o, key) ?? []).filter((v): v is string => typeof v === 'string')
}

/** Is the key present with a value other than null? */
export function isSet (o: Obj | undefined, key: string): boolean {
  return o !== undefined && Object.hasOwn(o, key) && o[key] !== null
}
