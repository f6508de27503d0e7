// A process's CPU time and memory from /proc (Linux), for the benches that measure the bridge.
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ, /proc/<pid>/stat's unit on Linux

/** User + system CPU seconds of a process, or of one thread with `/proc/<pid>/task/<tid>/stat`. */
export function cpuSeconds(pid, file = `/proc/${pid}/stat`) {
  const stat = readFileSync(file, 'utf8');
  // after the last ") ": the command name may itself hold one
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14 and 15)
}

/** A memory field of /proc/<pid>/status (VmRSS, VmHWM, ...), in bytes. */
export function statusBytes(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match[1]) * 1024;
}
