import t from 'tap'
import { MAX_INODES, checkTmpfs, tmpfsOptionProblem, tmpfsTargetProblem } from '../../../src/policy/tmpfs'

/** The tmpfs option allow-list and target rules (issue 10 finding 8), one option or path at a time. */

const GiB = 1024 ** 3
const limits = { maxTmpfsSize: 2 * GiB }

const OPTIONS: Array<[string, 'ok' | RegExp]> = [
  ['size=64m', 'ok'],
  ['size=65536k', 'ok'],
  ['size=2g', 'ok'],
  ['size=2G', 'ok'],
  ['size=1048576', 'ok'],
  ['size=3g', /above the maximum tmpfs size/],
  ['size=50%', /share of the host's RAM/],
  ['size=0', /unlimited/],
  ['size=', /not a size/],
  ['size=1t', /not a size/],
  ['size=-1', /not a size/],
  ['size=99999999999999999999', /above the maximum/],
  ['mode=1777', 'ok'],
  ['mode=755', 'ok'],
  ['mode=0', 'ok'],
  ['mode=17777', /octal mode/],
  ['mode=0x1ff', /octal mode/],
  ['mode=9', /octal mode/],
  ['uid=1000', 'ok'],
  ['gid=0', 'ok'],
  ['uid=-1', /numeric id/],
  ['uid=01', /numeric id/],
  ['uid=4294967295', /numeric id/],
  ['nr_inodes=1k', 'ok'],
  [`nr_inodes=${MAX_INODES}`, 'ok'],
  [`nr_inodes=${MAX_INODES + 1}`, /between 1 and/],
  ['nr_inodes=0', /between 1 and/],
  ['nr_blocks=100', /use size=/],
  ['ro', 'ok'],
  ['rw', 'ok'],
  ['noexec', 'ok'],
  ['exec', 'ok'],
  ['nosuid', 'ok'],
  ['nodev', 'ok'],
  ['noatime', 'ok'],
  ['bind', /bind mount/],
  ['rbind', /bind mount/],
  ['suid', /setuid/],
  ['dev', /device nodes/],
  ['remount', /remounts/],
  ['shared', /propagation/],
  ['rshared', /propagation/],
  ['rslave', /propagation/],
  ['private', /propagation/],
  ['runbindable', /propagation/],
  ['huge=always', /huge-page/],
  ['mpol=bind:0', /NUMA/],
  ['tmpcopyup', /copy image content/],
  ['exec=1', /takes no value/],
  ['Bind', /not an allowed tmpfs option/],
  ['RBIND', /not an allowed tmpfs option/],
  ['context=system_u:object_r:tmp_t', /not an allowed tmpfs option/],
  ['', /empty option/],
  ['x'.repeat(10000), /not an allowed tmpfs option/]
]

t.test('tmpfs options: allow-list', async t => {
  for (const [option, expect] of OPTIONS) {
    const problem = tmpfsOptionProblem(option, limits)
    if (expect === 'ok') t.equal(problem, undefined, `${option.slice(0, 40)} is allowed`)
    else t.match(problem, expect, `${option.slice(0, 40)} is refused: ${problem}`)
  }
  t.equal(tmpfsOptionProblem('size=100g', { maxTmpfsSize: 0 }), undefined, 'maxTmpfsSize 0 = no cap')
})

const TARGETS: Array<[string, 'ok' | RegExp]> = [
  ['/run', 'ok'],
  ['/var/cache/app', 'ok'],
  ['/dev/shm', 'ok'],
  ['/processes', 'ok'],
  ['/', /root directory/],
  ['', /empty/],
  ['run', /not an absolute path/],
  ['/run/', /not a clean path/],
  ['//run', /not a clean path/],
  ['/run/../etc', /not a clean path/],
  ['/./run', /not a clean path/],
  ['/proc', /under \/proc/],
  ['/proc/sys', /under \/proc/],
  ['/sys/fs/cgroup', /under \/sys/],
  ['/run:rw', /colon/],
  ['/a,b', /comma/],
  ['/a\0b', /NUL/],
  ['/' + 'a'.repeat(5000), /PATH_MAX/]
]

t.test('tmpfs targets', async t => {
  for (const [target, expect] of TARGETS) {
    const problem = tmpfsTargetProblem(target)
    if (expect === 'ok') t.equal(problem, undefined, `${target} is allowed`)
    else t.match(problem, expect, `${JSON.stringify(target.slice(0, 40))} is refused: ${problem}`)
  }
})

t.test('checkTmpfs: HostConfig.Tmpfs and Mounts of Type tmpfs', async t => {
  t.same(checkTmpfs({ Tmpfs: { '/run': 'size=64m,mode=1777', '/tmp': '' } }, limits), [])
  t.same(checkTmpfs(undefined, limits), [])
  const v = checkTmpfs({ Tmpfs: { '/t': 'size=1m,rbind,suid' } }, limits)
  t.same(v.map(x => [x.rule, x.field]), [['tmpfs-options', 'HostConfig.Tmpfs["/t"]'], ['tmpfs-options', 'HostConfig.Tmpfs["/t"]']], 'each refused option is one violation')
  t.match(v[0]?.message, 'HostConfig.Tmpfs["/t"]="size=1m,rbind,suid": the option "rbind" is not allowed')
  const m = checkTmpfs({
    Mounts: [
      { Type: 'volume', Target: '/proc', Source: 'v' },
      { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: -1, Mode: 0o10000, Options: [['exec'], ['size', '1m'], ['bind'], ['a', 'b', 'c'], 'rbind', [1], ['noexec,bind']] } }
    ]
  }, limits)
  t.same(m.map(x => x.field), [
    'HostConfig.Mounts[1].TmpfsOptions.SizeBytes',
    'HostConfig.Mounts[1].TmpfsOptions.Mode',
    'HostConfig.Mounts[1].TmpfsOptions.Options[2]',
    'HostConfig.Mounts[1].TmpfsOptions.Options[3]',
    'HostConfig.Mounts[1].TmpfsOptions.Options[4]',
    'HostConfig.Mounts[1].TmpfsOptions.Options[5]',
    'HostConfig.Mounts[1].TmpfsOptions.Options[6]'
  ], 'volume mounts are not judged here; every bad tmpfs part is')
})
