export interface ResourceRecord {
  kind?: 'dockerd' | 'redis' | 'registry'
  name?: string
  /** the process whose death makes the resource garbage (tap runner or test process) */
  ownerPid?: number
  ownerStart?: number
  /** main process; for dockerd also its process group id */
  pid?: number
  pidStart?: number
  /** unique directory under ROOT; appears in the command line of each of its processes */
  dir: string
  bridge?: string
  [key: string]: unknown
}

export const ROOT: string
export const RECORDS_DIR: string
export function procStart (pid: number): number | undefined
export function isAlive (pid: number | undefined, start?: number): boolean
export function processesMentioning (needle: string): number[]
export function mountsUnder (dir: string): string[]
export function forceCleanup (record: ResourceRecord, log?: (msg: string) => void): void
export function cleanupStale (log?: (msg: string) => void): void
export function readRecord (file: string): ResourceRecord | undefined
export function listRecords (): string[]
