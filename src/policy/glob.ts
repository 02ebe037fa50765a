/** Allow-list patterns: '*' matches any run of characters (including '/'); nothing else is special. */
export function globToRegExp (pattern: string): RegExp {
  const body = pattern.split('*').map(part => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')
  return new RegExp(`^${body}$`, 's')
}

export function matchesAny (value: string, patterns: readonly string[]): boolean {
  return patterns.some(p => globToRegExp(p).test(value))
}
