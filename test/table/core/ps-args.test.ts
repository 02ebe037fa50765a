import t from 'tap'
import { parsePsArgs } from '../../../src/docker/ps-args'

/**
 * The ps_args grammar (src/docker/ps-args.ts): what `docker top` users pass
 * is accepted and rewritten to one canonical string; the features issue 10
 * finding 1 combined (rename, sort, `e`, process selection) and the others
 * that reach beyond the container's rows are refused.
 */
const accepted: Array<[string, string]> = [
  ['', ''],
  ['   ', ''],
  ['-ef', '-ef'],
  ['-e -f', '-ef'],
  ['  -e   -f ', '-ef'],
  ['aux', 'aux'],
  ['-o pid', '-o pid'],
  ['-o pid,comm', '-o pid,comm'],
  ['o pid,comm', '-o pid,comm'],
  ['-eo pid,comm', '-o pid,comm'],
  ['-opid,comm', '-o pid,comm'],
  ['-o PID,User,ARGS', '-o pid,user,args'],
  ['-o pid,%cpu,%mem,comm', '-o pid,pcpu,pmem,comm'],
  ['-o pid,ppid,pgid,sid,user,uid,group,gid,tty,stat,ni,pri,psr,c,nlwp,rss,vsz,sz,pcpu,pmem,etime,etimes,time,stime,cmd', '-o pid,ppid,pgid,sid,user,uid,group,gid,tty,stat,ni,pri,psr,c,nlwp,rss,vsz,sz,pcpu,pmem,etime,etimes,time,stime,cmd'],
  ['-o user,pid,command', '-o user,pid,command']
]
for (const [raw, canonical] of accepted) {
  t.test(`accepted: ${JSON.stringify(raw)}`, async t => {
    t.same(parsePsArgs(raw), { ok: true, canonical })
  })
}

const refused: Array<[string, string, RegExp]> = [
  // The exploit from the issue, and its variant that narrows the host rows.
  ['the reported exploit', '-ofname,rtprio=PID,pid,user,args e -e --sort=-pid', /not one of the accepted forms/],
  ['the narrowed exploit', '-ofname,rtprio=PID,pid,user,args e -C sleep -p 4242 --sort=-pid', /not one of the accepted forms/],
  // Renames and header tricks.
  ['rename at the start', '-ortprio=PID,pid', /renaming/],
  ['rename of pid', '-o pid=X', /renaming/],
  ['rename to PID', '-o pid,rtprio=PID', /renaming/],
  ['width', '-o pid:9', /widths/],
  ['fname (8 chars of a name the process sets)', '-o pid,fname', /unknown or refused output field "fname"/],
  ['rtprio', '-o pid,rtprio', /unknown or refused/],
  ['lstart (holds spaces)', '-o pid,lstart', /unknown or refused/],
  ['start (holds spaces)', '-o pid,start', /unknown or refused/],
  ['environment as a field', '-o pid,environ', /unknown or refused/],
  ['comm not last', '-o comm,pid', /must be the last field/],
  ['args not last', '-o pid,args,user', /must be the last field/],
  ['two trailing fields', '-o pid,comm,args', /must be the last field/],
  ['no pid', '-o comm', /must include pid/],
  ['pid twice', '-o pid,pid', /named twice/],
  ['pcpu twice by alias', '-o pid,pcpu,%cpu', /named twice/],
  ['empty field', '-o pid,,comm', /unknown or refused output field ""/],
  ['empty list', '-o', /not one of the accepted forms/],
  ['two lists', '-o pid -o comm', /not one of the accepted forms/],
  // Sort.
  ['--sort', '-ef --sort=-pid', /not one of the accepted forms/],
  ['--sort alone', '--sort=pid', /not one of the accepted forms/],
  ['BSD k', 'aux k-pid', /not one of the accepted forms/],
  ['-o with sort', '-o pid --sort=pid', /not one of the accepted forms/],
  // Forest.
  ['BSD f', 'auxf', /not one of the accepted forms/],
  ['f word', '-ef f', /not one of the accepted forms/],
  ['--forest', '-ef --forest', /not one of the accepted forms/],
  ['-H', '-efH', /not one of the accepted forms/],
  // Environment.
  ['BSD e', 'aux e', /not one of the accepted forms/],
  ['auxe', 'auxe', /not one of the accepted forms/],
  ['eww', 'auxeww', /not one of the accepted forms/],
  ['e after -o list', '-o pid,args e', /not one of the accepted forms/],
  ['-ef e', '-ef e', /not one of the accepted forms/],
  // Thread rows (dockerd keeps "-" PID rows after a kept row).
  ['-L', '-eLf', /not one of the accepted forms/],
  ['BSD m', 'auxm', /not one of the accepted forms/],
  ['-T', '-eT', /not one of the accepted forms/],
  // Process selection.
  ['-e alone', '-e', /not one of the accepted forms/],
  ['-A', '-A', /not one of the accepted forms/],
  ['-p', '-p 1', /not one of the accepted forms/],
  ['--pid', '--pid=1', /not one of the accepted forms/],
  ['-q', '-ef -q 1', /not one of the accepted forms/],
  ['-u', '-u root', /not one of the accepted forms/],
  ['-C', '-C sshd', /not one of the accepted forms/],
  ['BSD p', 'p 1', /not one of the accepted forms/],
  ['BSD U', 'aux U root', /not one of the accepted forms/],
  ['BSD t', 't pts/0', /not one of the accepted forms/],
  ['--ppid', '--ppid 1', /not one of the accepted forms/],
  ['-o with -p', '-o pid -p 1', /not one of the accepted forms/],
  // Headers and anything else.
  ['no headers', '-ef --no-headers', /not one of the accepted forms/],
  ['BSD h', 'auxh', /not one of the accepted forms/],
  ['-f alone', '-f', /not one of the accepted forms/],
  ['ax', 'ax', /not one of the accepted forms/],
  ['-aux', '-aux', /not one of the accepted forms/],
  ['--help', '--help', /not one of the accepted forms/],
  ['shell syntax', 'aux;reboot', /not one of the accepted forms/],
  ['tab separator', '-e\t-f', /printable ASCII/],
  ['newline', '-ef\n', /printable ASCII/],
  ['non-ASCII space', '-ef\u00a0', /printable ASCII/],
  ['too long', '-o ' + 'pid,'.repeat(70) + 'pid', /too long/]
]
for (const [what, raw, message] of refused) {
  t.test(`refused: ${what}`, async t => {
    const r = parsePsArgs(raw)
    t.equal(r.ok, false, JSON.stringify(raw))
    if (!r.ok) {
      t.match(r.message, message)
      t.match(r.message, /^invalid value for "ps_args": /)
    }
  })
}
