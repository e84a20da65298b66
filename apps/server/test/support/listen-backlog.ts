import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The backlog of the socket listening on this loopback port: `ss` shows it as Send-Q of a listener. */
export function listenBacklog(port: number): number {
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  return Number(line.split(/\s+/)[2]);
}

/** What a node asks for by default (LISTEN_BACKLOG 4096), as the kernel caps it. */
export function expectedNodeBacklog(): number {
  return Math.min(4096, Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()));
}
