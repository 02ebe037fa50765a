import { isObj, listAt, strAt, type Obj } from './body'
import type { PolicyRules } from './config'
import { matchesAny } from './glob'
import { parseImageRef, pullRef, referenceForms, withDefaultTag } from './image-ref'
import type { Violation } from './types'

/**
 * The optional image allow-list. A pattern matches the reference as sent or
 * as the daemon normalises it (image-ref.ts: `nginx`, `docker.io/library/nginx`
 * and `index.docker.io/library/nginx:latest` are one image,
 * `docker.io/library/nginx:latest`, familiar form `nginx:latest`), with
 * `:latest` added when neither tag nor digest is given, so 'nginx:*' admits
 * `nginx`. A digest reference is matched as `repo@sha256:...` ('nginx@*').
 * An image ID names no repository and matches only patterns like '*'.
 */

export function imageForms (image: string): string[] {
  const parsed = parseImageRef(image)
  if (!parsed.ok) return [image]
  return [...new Set([image, ...referenceForms(withDefaultTag(parsed.ref))])]
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

export type PullDecision = { allow: true, reference: string, name: string, tagOrDigest: string } | { allow: false, status: 400 | 403, rule: string, message: string }

/**
 * A pull (`POST /images/create?fromImage=&tag=`) makes the daemon connect to
 * the registry the reference names and store what it serves: allowed only
 * for references the allow-list names, and never when the list is empty
 * (for create, empty means any image: an image already on the daemon).
 */
export function checkPull (fromImage: string, tag: string, rules: Pick<PolicyRules, 'imageAllowList'>): PullDecision {
  if (fromImage === '') return { allow: false, status: 400, rule: 'image-pull', message: 'fromImage is required: this gateway pulls images, it does not import them' }
  const parsed = pullRef(fromImage, tag)
  if (!parsed.ok) return { allow: false, status: 400, rule: 'image-pull', message: parsed.message }
  const ref = parsed.ref
  const forms = referenceForms(ref)
  const reference = forms[0] as string
  if (ref.tag === undefined && ref.digest === undefined) {
    return { allow: false, status: 403, rule: 'image-pull', message: `pulling every tag of ${reference} is not allowed through this gateway: name a tag or digest` }
  }
  if (rules.imageAllowList.length === 0) {
    return { allow: false, status: 403, rule: 'image-pull', message: `image pulls are not allowed: policy.imageAllowList is empty; list the images this gateway may pull there (e.g. ['registry.internal/*', 'nginx:*'])` }
  }
  if (forms.some(form => matchesAny(form, rules.imageAllowList))) {
    return { allow: true, reference, name: `${ref.domain}/${ref.path}`, tagOrDigest: ref.digest ?? ref.tag ?? '' }
  }
  return { allow: false, status: 403, rule: 'image-pull', message: `pull of ${reference} denied: not in the image allow-list (${rules.imageAllowList.join(', ')})` }
}
