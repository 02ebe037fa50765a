import { isObj, listAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { matchesAny } from './glob'
import type { Violation } from './types'

/**
 * The optional image allow-list. A pattern matches the reference as sent or
 * in its familiar form (the daemon reads `nginx`, `docker.io/library/nginx`
 * and `index.docker.io/library/nginx:latest` as one image), with `:latest`
 * added when neither tag nor digest is given, so 'nginx:*' admits `nginx`.
 * An image ID or ID prefix names no repository and matches only patterns
 * like '*'.
 */

export function imageForms (image: string): string[] {
  let familiar = image
  for (const host of ['index.docker.io/', 'docker.io/', 'registry-1.docker.io/']) {
    if (familiar.startsWith(host)) {
      familiar = familiar.slice(host.length)
      if (familiar.startsWith('library/') && familiar.indexOf('/', 'library/'.length) === -1) familiar = familiar.slice('library/'.length)
      break
    }
  }
  const forms = new Set([image, familiar])
  const lastSegment = familiar.slice(familiar.lastIndexOf('/') + 1)
  if (!lastSegment.includes(':') && !familiar.includes('@')) forms.add(`${familiar}:latest`)
  return [...forms]
}

export function checkImage (image: string, rules: Pick<PolicyRules, 'imageAllowList'>): Violation[] {
  if (rules.imageAllowList.length === 0) return []
  if (imageForms(image).some(form => matchesAny(form, rules.imageAllowList))) return []
  return [{ rule: 'image', field: 'Image', message: `Image=${JSON.stringify(image)} is not in the image allow-list (${rules.imageAllowList.join(', ')})` }]
}

/** Mounts of Type image (API 1.48+) mount another image's content, so the allow-list applies to them too. */
export function checkMountImages (hc: Obj | undefined, rules: Pick<PolicyRules, 'imageAllowList'>): Violation[] {
  if (rules.imageAllowList.length === 0) return []
  const out: Violation[] = []
  ;(listAt(hc, 'Mounts') ?? []).forEach((m, i) => {
    if (!isObj(m) || strAt(m, 'Type') !== 'image') return
    const source = strAt(m, 'Source') ?? ''
    if (!imageForms(source).some(form => matchesAny(form, rules.imageAllowList))) {
      const field = `HostConfig.Mounts[${i}].Source`
      out.push({ rule: 'image', field, message: `${field}=${JSON.stringify(source)} mounts an image that is not in the image allow-list (${rules.imageAllowList.join(', ')})` })
    }
  })
  return out
}
