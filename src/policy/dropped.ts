import type { DroppedKey } from './go-json'
import { badRequest, type Denial } from './types'

/** `HostConfig.Foo` for a dropped key. */
export function describeDropped (d: DroppedKey): string {
  return d.path === '' ? d.key : `${d.path}.${d.key}`
}

/** With `unknownFields: reject`, keys outside the API schema are a 400 instead of being dropped. */
export function unknownFieldsDenial (dropped: readonly DroppedKey[], mode: 'drop' | 'reject'): Denial | undefined {
  const [first] = dropped
  if (mode !== 'reject' || first === undefined) return undefined
  const names = dropped.map(d => JSON.stringify(describeDropped(d)))
  return badRequest('unknown-field', `unknown field${names.length === 1 ? '' : 's'} ${names.join(', ')} (not in the Docker API schema)`, describeDropped(first))
}
