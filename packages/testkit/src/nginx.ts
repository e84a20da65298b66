import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { findBinary } from './binaries';
import { freePort, onFreePort } from './free-port';
import { runCommand, spawnService, type ServiceProcess, waitForService } from './process';
import { makeTempDir, removeDir } from './temp-dir';

/** The one NGINX template, shared by the test kit, `pnpm cluster` and Docker Compose. */
export const NGINX_TEMPLATE_PATH = resolve(__dirname, '../../../nginx/nginx.conf.template');

/**
 * Parameters of every upstream `server` line, here and in docker-compose.yml (a static test holds them
 * equal). `max_fails=0` turns passive failure marking off: see the template and docs/cluster.md.
 */
export const UPSTREAM_SERVER_PARAMS = 'max_fails=0';

/** The two balancing methods the template is meant for; both keep one client address on one node. */
export const UPSTREAM_BALANCE = {
  ipHash: 'ip_hash',
  consistentHash: 'hash $remote_addr consistent',
} as const;
export type UpstreamBalance = keyof typeof UPSTREAM_BALANCE;

/** The template's placeholders, i.e. the environment variables the nginx container must set. */
export interface NginxTemplateVars {
  NGINX_LISTEN: string;
  NGINX_WORKER_PROCESSES: string;
  NGINX_RUNTIME_DIR: string;
  NGINX_ERROR_LOG: string;
  NGINX_ACCESS_LOG: string;
  NGINX_UPSTREAM_BALANCE: string;
  NGINX_UPSTREAM_SERVERS: string;
  NGINX_WEB_ROOT: string;
  NGINX_PROXY_CONNECT_TIMEOUT: string;
  NGINX_PROXY_READ_TIMEOUT: string;
  NGINX_CONF_DIR: string;
  NGINX_REAL_IP_FROM: string;
  NGINX_CONNECTIONS_PER_ADDRESS: string;
  NGINX_API_RATE_PER_ADDRESS: string;
  NGINX_API_BURST_PER_ADDRESS: string;
  NGINX_TLS: string;
  NGINX_HTTP_REDIRECT: string;
  NGINX_RESOLVER: string;
}

/** Where nginx.conf.template's included files live (the image copies them to /etc/nginx/chat). */
const NGINX_CONF_DIR = resolve(__dirname, '../../../nginx');

/**
 * The outer wall's defaults, per client address, here and in docker-compose.yml: room for a household or
 * office behind one address (a few hundred sockets), far below what one address could open otherwise.
 */
export const NGINX_DEFAULT_LIMITS = { connectionsPerAddress: 256, apiRatePerAddress: '50r/s', apiBurstPerAddress: 100 } as const;

const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

/** Every `${NAME}` placeholder of a template, in order of first use. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * envsubst semantics (what the nginx image's entrypoint does with the same file), but strict: a
 * placeholder without a value is an error instead of an empty string or a leftover `${NAME}`.
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, string | undefined>>): string {
  const missing = templatePlaceholders(template).filter((name) => vars[name] === undefined);
  if (missing.length > 0) throw new Error(`NGINX template: no value for ${missing.join(', ')}`);
  return template.replace(PLACEHOLDER, (_, name: string) => vars[name]!);
}

/** `server <address> max_fails=0;` for each address: the value of NGINX_UPSTREAM_SERVERS. */
export function upstreamServers(addresses: readonly string[]): string {
  if (addresses.length === 0) throw new Error('NGINX needs at least one upstream server');
  return addresses.map((address) => `server ${address} ${UPSTREAM_SERVER_PARAMS};`).join('\n        ');
}

export interface NginxConfigOptions {
  /** `listen` argument: `127.0.0.1:8080`, or `8080` for every address. */
  listen: string;
  /** Backend nodes as `host:port`. */
  upstreams: readonly string[];
  /** The built web app (apps/web/dist), served with a single-page-app fallback to index.html. */
  webRoot: string;
  /** Writable directory for the pid file and NGINX's temporary files. */
  runtimeDir: string;
  balance?: UpstreamBalance;
  workerProcesses?: number | 'auto';
  errorLog?: string;
  accessLog?: string;
  /** NGINX time strings, e.g. `2s`. Read timeout must stay above Socket.IO pingInterval + pingTimeout. */
  proxyConnectTimeout?: string;
  proxyReadTimeout?: string;
  /** Hops in front of NGINX whose X-Forwarded-For it believes (addresses or CIDRs); none by default. */
  realIpFrom?: readonly string[];
  connectionsPerAddress?: number;
  /** NGINX rate, e.g. `50r/s`. */
  apiRatePerAddress?: string;
  apiBurstPerAddress?: number;
  /** Terminate TLS with this pair; `httpRedirectListen` then answers plain HTTP with a redirect to `httpsPort`. */
  tls?: { certificate: string; key: string; httpRedirectListen: string; httpsPort: number };
}

/** The template variables for `options`, with the same defaults Compose uses where they make sense locally. */
export function nginxTemplateVars(options: NginxConfigOptions): NginxTemplateVars {
  return {
    NGINX_LISTEN: options.listen,
    NGINX_WORKER_PROCESSES: String(options.workerProcesses ?? 'auto'),
    NGINX_RUNTIME_DIR: options.runtimeDir,
    NGINX_ERROR_LOG: options.errorLog ?? join(options.runtimeDir, 'error.log'),
    NGINX_ACCESS_LOG: options.accessLog ?? join(options.runtimeDir, 'access.log'),
    NGINX_UPSTREAM_BALANCE: UPSTREAM_BALANCE[options.balance ?? 'ipHash'],
    NGINX_UPSTREAM_SERVERS: upstreamServers(options.upstreams),
    NGINX_WEB_ROOT: options.webRoot,
    NGINX_PROXY_CONNECT_TIMEOUT: options.proxyConnectTimeout ?? '2s',
    NGINX_PROXY_READ_TIMEOUT: options.proxyReadTimeout ?? '60s',
    NGINX_CONF_DIR,
    NGINX_REAL_IP_FROM: realIpFrom(options.realIpFrom ?? []),
    NGINX_CONNECTIONS_PER_ADDRESS: String(options.connectionsPerAddress ?? NGINX_DEFAULT_LIMITS.connectionsPerAddress),
    NGINX_API_RATE_PER_ADDRESS: options.apiRatePerAddress ?? NGINX_DEFAULT_LIMITS.apiRatePerAddress,
    NGINX_API_BURST_PER_ADDRESS: String(options.apiBurstPerAddress ?? NGINX_DEFAULT_LIMITS.apiBurstPerAddress),
    NGINX_TLS: options.tls ? `ssl_certificate ${options.tls.certificate}; ssl_certificate_key ${options.tls.key};` : '# plain HTTP',
    NGINX_HTTP_REDIRECT: options.tls ? httpRedirectServer(options.tls.httpRedirectListen, options.tls.httpsPort) : '# no plain-HTTP redirect',
    // The local cluster's upstreams are fixed loopback addresses (and Debian's NGINX predates `resolve`).
    NGINX_RESOLVER: '# static upstream addresses',
  };
}

/** `set_real_ip_from` lines for NGINX_REAL_IP_FROM (a comment when no hop is trusted). */
function realIpFrom(hops: readonly string[]): string {
  return hops.length === 0 ? '# no trusted hop in front of NGINX' : hops.map((hop) => `set_real_ip_from ${hop};`).join(' ');
}

/** NGINX_HTTP_REDIRECT with TLS: the plain port keeps its health check and sends everything else to HTTPS. */
function httpRedirectServer(listen: string, httpsPort: number): string {
  return (
    `server { listen ${listen}; server_name _; ` +
    'location = /nginx-healthz { access_log off; default_type text/plain; return 200 "ok\\n"; } ' +
    `location / { return 301 https://$host:${httpsPort}$request_uri; } }`
  );
}

export function renderNginxConfig(options: NginxConfigOptions): string {
  return renderTemplate(readFileSync(NGINX_TEMPLATE_PATH, 'utf8'), { ...nginxTemplateVars(options) });
}

/** Debian installs nginx to /usr/sbin, which is not on every user's PATH. */
export function findNginx(): string {
  try {
    return findBinary('nginx');
  } catch (error) {
    if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
    throw error; // names `apt-get install -y nginx`
  }
}

export interface CheckNginxConfigOptions {
  /**
   * Host names to resolve to 127.0.0.1 while checking, e.g. Compose service names like `backend`:
   * `nginx -t` resolves upstream host names. The check then runs in a private mount namespace
   * (`unshare`) whose /etc/hosts names them and whose /tmp is an empty tmpfs, so nothing on this
   * machine is touched.
   */
  resolveToLoopback?: readonly string[];
  /**
   * A directory made visible at `/mnt` during a `resolveToLoopback` check, for files the configuration
   * includes (the check hides the real /tmp, where a checkout or a temporary directory may live).
   */
  mountAtMnt?: string;
}

/** Runs `nginx -t` on a rendered configuration; throws with NGINX's explanation when it fails. */
export async function checkNginxConfig(config: string, options: CheckNginxConfigOptions = {}): Promise<string> {
  const nginx = findNginx();
  const dir = makeTempDir('chat-nginx-check-');
  try {
    const configFile = join(dir, 'nginx.conf');
    writeFileSync(configFile, config);
    const names = options.resolveToLoopback ?? [];
    if (names.length === 0) return await runCommand(nginx, ['-t', '-c', configFile, '-p', `${dir}/`, '-e', 'stderr']);

    const hostsFile = join(dir, 'hosts');
    writeFileSync(hostsFile, `127.0.0.1 localhost ${names.join(' ')}\n::1 localhost\n`);
    // Unprivileged users get a user namespace too (-r); inside it only "root" is mapped, so the check
    // names that worker user instead of the default `nobody` (it only decides who owns temp dirs).
    // NGINX's output goes to a file: Compose's config logs to /dev/stderr, which cannot be opened when
    // it is the socket Node gives a child (in a container it is a pipe, which can).
    const script =
      'set -e; conf=$(cat "$1"); mount --bind "$2" /etc/hosts; if [ -n "$4" ]; then mount --bind "$4" /mnt; fi; mount -t tmpfs chat-nginx-check /tmp; ' +
      'printf "%s\\n" "$conf" > /tmp/nginx.conf; ' +
      'rc=0; "$3" -t -c /tmp/nginx.conf -p /tmp/ -e stderr -g "user root;" > /tmp/out 2>&1 || rc=$?; ' +
      'cat /tmp/out; exit $rc';
    const unshareArgs = process.getuid?.() === 0 ? ['--mount'] : ['--map-root-user', '--mount'];
    return await runCommand('unshare', [...unshareArgs, 'sh', '-c', script, 'sh', configFile, hostsFile, nginx, options.mountAtMnt ?? '']);
  } finally {
    removeDir(dir);
  }
}

export interface StartNginxOptions
  extends Pick<NginxConfigOptions, 'upstreams' | 'balance' | 'proxyReadTimeout' | 'realIpFrom' | 'connectionsPerAddress' | 'apiRatePerAddress' | 'apiBurstPerAddress'> {
  /** Terminate TLS with this pair on the main port (`url` is then https); a second port redirects plain HTTP to it. */
  tls?: { certificate: string; key: string };
  /** Defaults to apps/web/dist of this repository (it need not exist: then `/` answers 404). */
  webRoot?: string;
  /** Defaults to 1: tests and a laptop cluster share the CPU with the nodes. */
  workerProcesses?: number | 'auto';
  timeoutMs?: number;
}

export interface NginxServer {
  /** `http://127.0.0.1:<port>` (https with TLS) */
  readonly url: string;
  readonly port: number;
  /** With TLS: `http://127.0.0.1:<port>` of the plain-HTTP redirect. */
  readonly httpRedirectUrl: string | undefined;
  /** PID of the master process, undefined once stopped. */
  readonly pid: number | undefined;
  readonly dir: string;
  readonly configFile: string;
  readonly accessLog: string;
  readonly errorLog: string;
  /** Writes a configuration for `upstreams` and has the running master load it (SIGHUP). */
  reload(upstreams: readonly string[]): Promise<void>;
  /** Graceful stop (SIGQUIT: open requests finish, WebSockets are closed), then removes the directory. */
  stop(): Promise<void>;
}

export const REPO_ROOT = resolve(__dirname, '../../..');

function probeHealth(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/nginx-healthz', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/**
 * Starts the Debian nginx binary in the foreground (`daemon off`) with its own prefix, pid file and
 * temporary directories in a fresh temporary directory, listening on a free loopback port.
 */
export async function startNginx(options: StartNginxOptions): Promise<NginxServer> {
  const nginx = findNginx();
  const dir = makeTempDir('chat-nginx-');
  const runtimeDir = join(dir, 'run');
  mkdirSync(runtimeDir);
  const configFile = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  const accessLog = join(dir, 'access.log');
  const timeoutMs = options.timeoutMs ?? 15_000;
  let upstreams = options.upstreams;
  let service: ServiceProcess | undefined;

  // With TLS, health is probed on the plain port (its own /nginx-healthz), chosen before the main one.
  const redirectPort = options.tls ? await freePort() : undefined;
  const writeConfig = (port: number) =>
    writeFileSync(
      configFile,
      renderNginxConfig({
        listen: options.tls ? `127.0.0.1:${port} ssl` : `127.0.0.1:${port}`,
        ...(options.tls ? { tls: { ...options.tls, httpRedirectListen: `127.0.0.1:${redirectPort}`, httpsPort: port } } : {}),
        realIpFrom: options.realIpFrom,
        connectionsPerAddress: options.connectionsPerAddress,
        apiRatePerAddress: options.apiRatePerAddress,
        apiBurstPerAddress: options.apiBurstPerAddress,
        upstreams,
        webRoot: options.webRoot ?? join(REPO_ROOT, 'apps/web/dist'),
        runtimeDir,
        balance: options.balance,
        workerProcesses: options.workerProcesses ?? 1,
        errorLog,
        accessLog,
        proxyReadTimeout: options.proxyReadTimeout,
      }),
    );

  const start = async (port: number) => {
    writeConfig(port);
    service = spawnService({
      command: nginx,
      // As root, NGINX would run its workers as `nobody`, which cannot read a web root or temporary
      // directory under a private (0700) directory; a loopback test proxy keeps the caller's user.
      args: ['-c', configFile, '-p', `${dir}/`, '-e', errorLog, '-g', process.getuid?.() === 0 ? 'daemon off; user root;' : 'daemon off;'],
      logFile: join(dir, 'nginx.out'),
    });
    try {
      await waitForService(service, `NGINX on port ${port}`, () => probeHealth(redirectPort ?? port), timeoutMs);
    } catch (error) {
      // bind() failures are explained in the error log, not on stdout.
      const detail = readFileSync(errorLog, 'utf8').trim().split('\n').slice(-10).join('\n');
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- ${errorLog} ---\n${detail}`);
    }
    return port;
  };

  let port: number;
  try {
    port = await onFreePort(start);
  } catch (error) {
    removeDir(dir);
    throw error;
  }

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    httpRedirectUrl: redirectPort === undefined ? undefined : `http://127.0.0.1:${redirectPort}`,
    get pid() {
      return service && !service.exitStatus ? service.pid : undefined;
    },
    dir,
    configFile,
    accessLog,
    errorLog,
    async reload(next) {
      upstreams = next;
      writeConfig(port);
      await runCommand(nginx, ['-t', '-c', configFile, '-p', `${dir}/`, '-e', errorLog]);
      if (service && !service.exitStatus) process.kill(service.pid, 'SIGHUP');
    },
    async stop() {
      await service?.stop('SIGQUIT', 10_000);
      removeDir(dir);
    },
  };
}

/**
 * NGINX worker processes for `connections` clients at once under this process's open-files limit, which
 * NGINX inherits: its `worker_rlimit_nofile` cannot raise it without CAP_SYS_RESOURCE (this sandbox and CI
 * have none; the worker logs `setrlimit(RLIMIT_NOFILE) failed`). A proxied client holds two descriptors in
 * its worker (client and upstream), and with one worker at 20,000 descriptors the 10,000-client runs left
 * exactly 5 clients unconnected. `reuseport` spreads connections over the workers by a hash, so a quarter
 * is kept in reserve.
 */
export function nginxWorkersFor(connections: number, limit: number | undefined = openFilesLimit()): number {
  if (limit === undefined) return 1;
  return Math.min(8, Math.max(1, Math.ceil((2 * connections * 1.25) / Math.max(1, limit - 200))));
}

/** The soft open-files limit of this process (Linux /proc), or undefined when unknown or unlimited. */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}
