import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  checkNginxConfig,
  findNginx,
  makeTempDir,
  NGINX_TEMPLATE_PATH,
  NGINX_DEFAULT_LIMITS,
  REPO_ROOT,
  renderNginxConfig,
  SERVER_NODE_FLAGS,
  removeDir,
  renderTemplate,
  templatePlaceholders,
  UPSTREAM_SERVER_PARAMS,
} from '@chat/testkit';
import { loadConfig } from '../src/config';

// Static checks of the container topology (no Docker engine here): docker-compose.yml, deploy/, and the
// NGINX template rendered for Compose and for the local cluster, each accepted by `nginx -t`.

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  container_name?: string;
  ports?: unknown[];
  network_mode?: string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  command?: string[];
  restart?: string;
  logging?: { driver: string; options: Record<string, string> };
  depends_on?: Record<string, { condition?: string }> | string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean; ipam?: { config?: { subnet?: string }[] } }>;
}

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/**
 * Compose's variable interpolation: `$$`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}` (what `docker compose config` does before anything else).
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (match, name, colon, op, arg) => {
    if (match === '$$') return '$';
    const value = env[name as string];
    const missing = value === undefined || (colon === ':' && value === '');
    if (!missing) return value;
    if (op === '-') return arg as string;
    if (op === '?') throw new Error(`required variable ${name as string} is missing: ${arg as string}`);
    return '';
  });
}

// What an operator puts in .env (deploy/compose.env.example lists exactly these as required).
const OPERATOR_ENV = {
  JWT_SECRET: 'x'.repeat(48),
  POSTGRES_PASSWORD: 'pg-secret',
  CHAT_APP_PASSWORD: 'app-secret',
  REDIS_PASSWORD: 'redis-secret',
  REPLICATION_PASSWORD: 'repl-secret',
  GRAFANA_ADMIN_PASSWORD: 'grafana-secret',
  OPS_TOKEN: 'o'.repeat(40),
  MINIO_PASSWORD: 'minio-secret',
};

const composeText = read('docker-compose.yml');
const compose = parse(interpolate(composeText, OPERATOR_ENV), { merge: true }) as ComposeFile;
const services = compose.services;
const service = (name: string): ComposeService => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};
const dependsOn = (s: ComposeService) => (Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {}));

describe('docker-compose.yml', () => {
  it('has every service of the topology', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['alertmanager', 'backend', 'grafana', 'migrate', 'minio', 'nginx', 'postgres', 'postgres-replica', 'prometheus', 'redis'].sort(),
    );
  });

  it("rotates every container's log (json-file, bounded size and count)", () => {
    for (const [name, s] of Object.entries(services)) {
      expect([name, s.logging]).toEqual([name, { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '5' } }]);
    }
  });

  it('runs Alertmanager on the monitoring network only, with the rules mounted into Prometheus', () => {
    expect(service('alertmanager').networks).toEqual(['monitoring']);
    expect(service('alertmanager').volumes).toContain('./deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro');
    expect(service('alertmanager').ports).toEqual(['127.0.0.1:9093:9093']);
    expect(service('prometheus').volumes).toContain('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(dependsOn(service('prometheus')).alertmanager).toEqual({ condition: 'service_healthy' });
  });

  it('lets backend scale: no container_name, no published port, no host network', () => {
    const backend = service('backend');
    expect(backend.container_name).toBeUndefined();
    expect(backend.ports).toBeUndefined();
    expect(backend.network_mode).toBeUndefined();
    // No other service has a container_name either, so two checkouts' stacks can coexist.
    for (const [name, s] of Object.entries(services)) expect([name, s.container_name]).toEqual([name, undefined]);
  });

  it('refuses to start without the operator secrets', () => {
    for (const name of Object.keys(OPERATOR_ENV)) {
      const partial: Record<string, string> = { ...OPERATOR_ENV };
      delete partial[name];
      expect(() => interpolate(composeText, partial)).toThrow(new RegExp(`required variable ${name} `));
    }
    const example = read('deploy/compose.env.example');
    for (const name of Object.keys(OPERATOR_ENV)) expect(example).toMatch(new RegExp(`^${name}=$`, 'm'));
  });

  it('gives backend every variable a clustered node needs, accepted by the server configuration', () => {
    const env = service('backend').environment!;
    for (const name of ['HOST', 'PORT', 'DATABASE_URL', 'DATABASE_REPLICA_URLS', 'REDIS_URL', 'JWT_SECRET', 'TRUST_PROXY']) {
      expect([name, env[name]?.length ?? 0]).not.toEqual([name, 0]);
    }
    // Every name is one the server reads (a typo would silently fall back to a default).
    const configSource = read('apps/server/src/config.ts');
    for (const name of Object.keys(env)) expect([name, configSource.includes(`${name}:`)]).toEqual([name, true]);

    const config = loadConfig(env);
    expect(config.host).toBe('0.0.0.0'); // reachable from NGINX and Prometheus, not just inside the container
    expect(config.port).toBe(3000);
    // The nodes connect as the least-privileged role and do not migrate; Redis with its ACL user.
    expect(config.database).toMatchObject({
      kind: 'postgres',
      primaryUrl: 'postgres://chat_app:app-secret@postgres:5432/chat',
      replicaUrls: ['postgres://chat_app:app-secret@postgres-replica:5432/chat'],
    });
    expect(config.migrateOnStart).toBe(false);
    expect(config.redisUrl).toBe('redis://chat:redis-secret@redis:6379');
    expect(config.jwtSecret).toBe(OPERATOR_ENV.JWT_SECRET);
    // Files go to the MinIO of the stack, which every node shares.
    expect(config.fileStore).toEqual({ kind: 's3', endpoint: 'http://minio:9000', region: 'us-east-1', bucket: 'chat-files', accessKeyId: 'chat', secretAccessKey: 'minio-secret' });
    expect(service('minio').environment).toMatchObject({ MINIO_ROOT_USER: 'chat', MINIO_ROOT_PASSWORD: 'minio-secret' });

    // The nodes trust forwarded headers from NGINX's fixed address only, and that address is in the subnet.
    const nginxNetworks = service('nginx').networks as Record<string, { ipv4_address?: string }>;
    const nginxAddress = nginxNetworks.chat!.ipv4_address!;
    expect(config.trustProxy).toEqual([nginxAddress]);
    const subnet = compose.networks!.chat!.ipam!.config![0]!.subnet!;
    expect(nginxAddress.split('.').slice(0, 3)).toEqual(subnet.split('/')[0]!.split('.').slice(0, 3));
  });

  it('has a healthcheck on every service, and depends_on with conditions that can be met', () => {
    for (const [name, s] of Object.entries(services)) {
      // A one-shot service (it exits) is judged by its exit status instead.
      const oneShot = s.restart === 'no' && s.healthcheck?.disable === true;
      expect([name, Boolean(s.healthcheck?.test) || oneShot]).toEqual([name, true]);
      for (const [dependency, { condition }] of Object.entries(dependsOn(s))) {
        expect(Object.keys(services)).toContain(dependency);
        expect(['service_healthy', 'service_started', 'service_completed_successfully']).toContain(condition);
      }
    }
    expect(dependsOn(service('backend'))).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      'postgres-replica': { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      minio: { condition: 'service_healthy' },
    });
    expect(dependsOn(service('migrate'))).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(dependsOn(service('postgres-replica'))).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(dependsOn(service('nginx'))).toEqual({ backend: { condition: 'service_healthy' } });
    expect(dependsOn(service('grafana'))).toEqual({ prometheus: { condition: 'service_healthy' } });
  });

  it('bind-mounts only files that exist in the repository', () => {
    const mounts = Object.values(services).flatMap((s) => s.volumes ?? []).filter((v) => v.startsWith('./'));
    expect(mounts.length).toBeGreaterThanOrEqual(5);
    for (const mount of mounts) expect([mount, existsSync(join(REPO_ROOT, mount.split(':')[0]!))]).toEqual([mount, true]);
  });

  it('keeps the data network private: only the backends and migrate reach PostgreSQL and Redis', () => {
    const networksOf = (name: string) => {
      const n = service(name).networks ?? [];
      return (Array.isArray(n) ? n : Object.keys(n)).sort();
    };
    expect(compose.networks!.data!.internal).toBe(true);
    for (const name of ['postgres', 'postgres-replica', 'redis', 'minio']) expect([name, networksOf(name)]).toEqual([name, ['data']]);
    expect(networksOf('backend')).toEqual(['chat', 'data', 'monitoring']);
    expect(networksOf('migrate')).toEqual(['data']);
    for (const name of ['nginx', 'prometheus', 'grafana']) expect([name, networksOf(name).includes('data')]).toEqual([name, false]);
    expect(networksOf('nginx')).toEqual(['chat']);
    // Nothing on the data network publishes a port.
    for (const name of ['postgres', 'postgres-replica', 'redis', 'minio', 'migrate']) expect([name, service(name).ports ?? []]).toEqual([name, []]);
  });

  it('runs migrations as the schema owner before the backends, which connect as the app role', () => {
    const migrate = service('migrate');
    expect(migrate.command).toEqual(['node', 'apps/server/dist/migrate.js']);
    expect(migrate.image).toBe(service('backend').image);
    expect(migrate.environment!.DATABASE_URL).toBe('postgres://chat:pg-secret@postgres:5432/chat');
    expect(Object.keys(migrate.environment!)).toEqual(['DATABASE_URL']);
    // The app role is made when the primary is first initialised, from the file the least-privilege test runs.
    expect(service('postgres').volumes).toContain('./deploy/postgres/app-role.sql:/docker-entrypoint-initdb.d/app-role.sql.in:ro');
    expect(read('deploy/postgres/primary-init.sh')).toMatch(/-v app=chat_app .*-f \/docker-entrypoint-initdb\.d\/app-role\.sql\.in/s);
    expect(service('postgres').environment!.CHAT_APP_PASSWORD).toBe('app-secret');
  });

  it('requires a password for Redis: the default user is off, the nodes sign in as an ACL user', () => {
    const command = service('redis').command!;
    const users = command.flatMap((arg, i) => (arg === '--user' ? [command.slice(i + 1, command.indexOf('--user', i + 1) === -1 ? undefined : command.indexOf('--user', i + 1))] : []));
    expect(users).toEqual([
      ['default', 'off'],
      ['chat', 'on', '>redis-secret', '~*', '&*', '+@all'],
    ]);
    expect(JSON.stringify(service('redis').healthcheck)).toContain('--user chat');
  });

  it('runs a real streaming replica: a replication role on the primary, pg_basebackup -R on the replica', () => {
    const primaryInit = read('deploy/postgres/primary-init.sh');
    expect(service('postgres').volumes).toContain('./deploy/postgres/primary-init.sh:/docker-entrypoint-initdb.d/10-replication.sh:ro');
    expect(primaryInit).toMatch(/CREATE ROLE replicator WITH REPLICATION LOGIN/);
    expect(primaryInit).toMatch(/host replication replicator all scram-sha-256/);
    expect(service('postgres').environment!.REPLICATION_PASSWORD).toBe('repl-secret');

    const replica = service('postgres-replica');
    expect(replica.entrypoint).toEqual(['/usr/local/bin/replica-entrypoint.sh']);
    expect(replica.environment).toMatchObject({ PRIMARY_HOST: 'postgres', REPLICATION_PASSWORD: 'repl-secret' });
    const entrypoint = read('deploy/postgres/replica-entrypoint.sh');
    expect(entrypoint).toMatch(/pg_basebackup -h "\$PRIMARY_HOST" -p 5432 -U replicator -D "\$PGDATA" -R -X stream/);
    expect(entrypoint).toMatch(/exec docker-entrypoint\.sh "\$@"/);
    expect([replica.healthcheck!.test].flat().join(' ')).toContain('pg_is_in_recovery()');
    // Same major version as the test kit's binaries, so the tests exercise what Compose runs.
    expect(service('postgres').image).toMatch(/^postgres:15\b/);
    expect(replica.image).toBe(service('postgres').image);
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');
  const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const stages = new Map<string, { base: string; body: string }>();
  const blocks = dockerfile.split(/^(?=FROM )/m).filter((b) => b.startsWith('FROM '));
  for (const block of blocks) {
    const [, image, name] = /^FROM (\S+) AS (\S+)/.exec(block)!;
    stages.set(name!, { base: image!.replace(/^\$\{(\w+)\}$/, (_, arg: string) => args[arg] ?? image!), body: block });
  }
  /** The image a stage finally builds on, following `FROM <stage>`. */
  const rootImage = (name: string): string => {
    const stage = stages.get(name)!;
    return stages.has(stage.base) ? rootImage(stage.base) : stage.base;
  };

  it('has the targets Compose builds, multi-stage', () => {
    expect(stages.size).toBeGreaterThanOrEqual(3);
    for (const name of ['backend', 'nginx']) {
      const build = service(name).build!;
      expect(build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile', target: name });
      expect(stages.has(name)).toBe(true);
    }
    expect(existsSync(join(REPO_ROOT, 'deploy/Dockerfile.dockerignore'))).toBe(true);
  });

  it('builds and runs Node stages on Node 24', () => {
    const nodeStages = [...stages.keys()].filter((name) => rootImage(name).startsWith('node:'));
    expect(nodeStages).toEqual(expect.arrayContaining(['workspace', 'web-build', 'backend']));
    for (const name of nodeStages) expect([name, rootImage(name)]).toEqual([name, expect.stringMatching(/^node:24(-|$)/)]);
    // The web app NGINX serves is built on Node 24 too.
    expect(stages.get('nginx')!.body).toMatch(/COPY --from=web-build \/app\/apps\/web\/dist /);
  });

  it('runs both final images as a non-root user', () => {
    for (const name of ['backend', 'nginx']) {
      const users = [...stages.get(name)!.body.matchAll(/^USER (\S+)/gm)].map((m) => m[1]!);
      expect(users.length).toBeGreaterThan(0);
      expect(['root', '0', '0:0']).not.toContain(users.at(-1));
    }
  });

  it('starts the compiled node with plain node, one process, with the flags and on the entry `pnpm --filter @chat/server start` runs', () => {
    const cmd = JSON.stringify(['node', ...SERVER_NODE_FLAGS, 'apps/server/dist/main.js']).replaceAll(',', ', ');
    expect(stages.get('backend')!.body.split('\n')).toContain(`CMD ${cmd}`);
    expect(JSON.parse(read('apps/server/package.json')).scripts.start).toMatch(/(^|&& )NODE_ENV=production node (--\S+ )*dist\/main\.js$/);
    expect(JSON.parse(read('apps/server/package.json')).scripts.start).toContain(`node ${SERVER_NODE_FLAGS.join(' ')} dist/main.js`);
  });

  it('ships the compiled server and its production dependencies only, in the repository layout', () => {
    const build = stages.get('server-build')!;
    expect(build.base).toBe('workspace');
    expect(build.body).toMatch(/^RUN pnpm build$/m);
    expect(build.body).toMatch(/pnpm --filter @chat\/server deploy --prod --legacy \/deploy$/m);
    const backend = stages.get('backend')!.body;
    const copies = [...backend.matchAll(/^COPY (.+)$/gm)].map((m) => m[1]);
    // Nothing of the workspace (sources, dev dependencies, tsx): the bundle, what it loads, and the
    // migrations it applies, where the bundle looks for them (apps/server/dist/../../../db/migrations).
    expect(copies).toEqual([
      'db/migrations db/migrations',
      '--from=server-build /deploy/package.json apps/server/package.json',
      '--from=server-build /deploy/node_modules apps/server/node_modules',
      '--from=server-build /deploy/dist apps/server/dist',
    ]);
    expect(backend).toMatch(/^WORKDIR \/app$/m);
    expect(backend).toMatch(/^ENV NODE_ENV=production /m);
    expect(backend).not.toMatch(/tsx/);
  });

  it('keeps tests, test tools and the benchmark out of the build: the install filter and .dockerignore', () => {
    // The workspace installs the two packages it builds and their dependencies, not the benchmark's load tools.
    expect(stages.get('workspace')!.body).toMatch(/pnpm install --frozen-lockfile --filter "@chat\/server\.\.\." --filter "@chat\/web\.\.\."$/m);
    expect(stages.get('server-build')!.body).toMatch(/^RUN rm -rf \/deploy\/node_modules\/@electric-sql /m);
    const ignored = read('deploy/Dockerfile.dockerignore').split('\n');
    for (const line of ['**/node_modules', '**/dist', '.git', '**/test', '**/*.test.ts', 'packages/bench/*', '!packages/bench/package.json', 'packages/testkit/*', '!packages/testkit/package.json', 'artillery', '.ci', '.bench', 'deploy/tls', '.env']) {
      expect([line, ignored.includes(line)]).toEqual([line, true]);
    }
    // Each package the workspace installs keeps its manifest in the context (the COPY lines need them).
    for (const [, manifest] of stages.get('workspace')!.body.matchAll(/^COPY (\S+\/package\.json) /gm)) {
      expect([manifest, ignored.includes(manifest!)]).toEqual([manifest, false]);
    }
  });
});

describe('Prometheus and Grafana provisioning', () => {
  it('scrapes every scaled backend through Docker DNS service discovery on port 3000', () => {
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; metrics_path?: string; dns_sd_configs?: { names: string[]; type: string; port: number }[] }[];
    };
    const job = prometheus.scrape_configs.find((j) => j.job_name === 'chat-backend')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.dns_sd_configs).toEqual([expect.objectContaining({ names: ['backend'], type: 'A', port: 3000 })]);
    expect(service('backend').environment!.PORT).toBe('3000');
    expect(service('prometheus').volumes).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('provisions a Prometheus datasource and a dashboard that uses only metrics the server exports', () => {
    const datasources = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { type: string; url: string; uid: string }[];
    };
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', uid: 'prometheus' })]);

    const providers = parse(read('deploy/grafana/provisioning/dashboards/chat.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(service('grafana').volumes).toContain(`./deploy/grafana/dashboards:${providers.providers[0]!.options.path}:ro`);

    const dashboard = JSON.parse(read('deploy/grafana/dashboards/chat-cluster.json')) as {
      panels: { targets: { expr: string; datasource: { uid: string } }[] }[];
    };
    const targets = dashboard.panels.flatMap((p) => p.targets);
    expect(targets.length).toBeGreaterThanOrEqual(8);
    const metricsSource = read('apps/server/src/metrics.ts');
    const used = new Set(targets.flatMap((t) => [...t.expr.matchAll(/\b(chat_[a-z_]+)/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThanOrEqual(6);
    for (const metric of used) {
      const base = metric.replace(/_(bucket|sum|count)$/, '');
      expect([metric, metricsSource.includes(`name: '${base}'`)]).toEqual([metric, true]);
    }
    for (const t of targets) expect(t.datasource.uid).toBe('prometheus');
  });
});

describe('nginx/nginx.conf.template', () => {
  const template = readFileSync(NGINX_TEMPLATE_PATH, 'utf8');
  const nginxEnv = service('nginx').environment!;

  /** Reads a numeric setting from the server's source: the template's timeouts depend on it. */
  const serverSetting = (name: string): number => {
    const source = read('apps/server/src/app.ts') + read('apps/server/src/config.ts');
    const match = new RegExp(`${name}[^0-9\\n]{0,80}?([0-9][0-9_]*)`).exec(source);
    if (!match) throw new Error(`cannot find ${name} in apps/server/src/{app,config}.ts: update this test`);
    return Number(match[1]!.replace(/_/g, ''));
  };
  const seconds = (value: string) => {
    const m = /^(\d+)(ms|s|m)?$/.exec(value);
    if (!m) throw new Error(`not an NGINX time: ${value}`);
    return Number(m[1]) / (m[2] === 'ms' ? 1000 : 1) * (m[2] === 'm' ? 60 : 1);
  };

  it('is rendered in Compose from the nginx service environment, which sets every placeholder', () => {
    const placeholders = templatePlaceholders(template);
    expect(placeholders.length).toBeGreaterThanOrEqual(8);
    expect(Object.keys(nginxEnv).sort()).toEqual([...placeholders].sort());
    expect(nginxEnv.NGINX_UPSTREAM_SERVERS).toBe(`server backend:3000 resolve ${UPSTREAM_SERVER_PARAMS};`);
    expect(nginxEnv.NGINX_UPSTREAM_BALANCE).toBe('ip_hash');
    expect(nginxEnv.NGINX_WEB_ROOT).toBe('/usr/share/nginx/html');
    const dockerfile = read('deploy/Dockerfile');
    expect(dockerfile).toMatch(/COPY nginx\/nginx\.conf\.template \/etc\/nginx\/templates\/nginx\.conf\.template/);
    // The image's envsubst step writes <output dir>/nginx.conf, and the default config path points there, so
    // `docker compose exec nginx nginx -s reload` (docs/cluster.md) reloads the rendered file.
    expect(dockerfile).toMatch(/^ENV NGINX_ENVSUBST_OUTPUT_DIR=\/etc\/nginx\/rendered NGINX_ENVSUBST_FILTER=\^NGINX_$/m);
    // envsubst also replaces the brace-less form: the template's only upper-case `$` names are its placeholders.
    const dollarNames = [...template.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
    expect(dollarNames.filter((name) => /[A-Z]/.test(name) && !placeholders.includes(name))).toEqual([]);
    expect(dollarNames.filter((name) => /^[a-z_0-9]+$/.test(name)).length).toBeGreaterThan(10);
    expect(dockerfile).toMatch(/ln -sf \/etc\/nginx\/rendered\/nginx\.conf \/etc\/nginx\/nginx\.conf/);
    expect(dockerfile).toMatch(/^CMD \["nginx", "-g", "daemon off;"\]$/m);
    expect(() => renderTemplate(template, { ...nginxEnv, NGINX_LISTEN: undefined })).toThrow(/NGINX_LISTEN/);
  });

  it('keeps proxy timeouts above Socket.IO pingInterval + pingTimeout', () => {
    const pingSeconds = (serverSetting('pingInterval') + serverSetting('pingTimeout')) / 1000;
    expect(pingSeconds).toBeGreaterThan(0);
    expect(seconds(nginxEnv.NGINX_PROXY_READ_TIMEOUT!)).toBeGreaterThan(pingSeconds);
    const local = renderNginxConfig({ listen: '127.0.0.1:1', upstreams: ['127.0.0.1:2'], webRoot: '/w', runtimeDir: '/r' });
    const localTimeout = /proxy_read_timeout (\S+);/.exec(local)![1]!;
    expect(seconds(localTimeout)).toBeGreaterThan(pingSeconds);
  });

  it('has the settings a WebSocket cluster entry point needs', () => {
    const config = renderTemplate(template, nginxEnv);
    const number = (directive: string) => Number(new RegExp(`^\\s*${directive} (\\d+);`, 'm').exec(config)![1]);
    // >= 20,000 sockets, two descriptors each (client + upstream), even if one worker gets them all.
    expect(number('worker_connections')).toBeGreaterThanOrEqual(2 * 20_000);
    expect(number('worker_rlimit_nofile')).toBeGreaterThanOrEqual(number('worker_connections'));
    expect(config).toMatch(/^\s*ip_hash;$/m);
    expect(config).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(config).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(config).toMatch(/proxy_http_version 1\.1;/);
    // The nodes are told the one client address NGINX found (real_ip), never a client-written chain.
    expect(config).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(config).not.toMatch(/\$proxy_add_x_forwarded_for/);
    expect(config).toMatch(/real_ip_header X-Forwarded-For;/);
    // The outer wall: Compose and the local cluster use the same per-address limits.
    expect(config).toContain(`limit_conn chat_conn_per_address ${NGINX_DEFAULT_LIMITS.connectionsPerAddress};`);
    expect(config).toContain(`limit_req zone=chat_api_per_address burst=${NGINX_DEFAULT_LIMITS.apiBurstPerAddress} nodelay;`);
    expect(config).toContain(`rate=${NGINX_DEFAULT_LIMITS.apiRatePerAddress};`);
    expect(config).toMatch(/proxy_set_header X-Real-IP \$remote_addr;/);
    expect(config).toMatch(/proxy_next_upstream error timeout/);
    // Scaling needs no reload: the one server is re-resolved through Docker's DNS, in a shared zone.
    expect(config).toMatch(/^\s*server backend:3000 resolve max_fails=0;$/m);
    expect(config).toMatch(/^\s*resolver 127\.0\.0\.11 valid=5s ipv6=off;$/m);
    const upstream = /upstream chat_backend \{([^}]*)\}/.exec(config)![1]!;
    expect(upstream).toMatch(/^\s*zone chat_backend \d+k;$/m);
    expect(upstream).toMatch(/server backend:3000 resolve/);
    // The resolver is set at http level, before the upstream that needs it.
    expect(config.indexOf('resolver 127.0.0.11')).toBeLessThan(config.indexOf('upstream chat_backend'));
    // A request id of NGINX's own to the node and into the access log.
    expect(config).toMatch(/proxy_set_header X-Request-Id \$request_id;/);
    expect(config).toMatch(/log_format chat [^;]*req=\$request_id';/);
    expect(read('deploy/Dockerfile')).toMatch(/^ARG NGINX_IMAGE=nginx:1\.(2[89]|[3-9]\d)/m);
    for (const location of ['location /socket.io/', 'location /api/', 'location /ops/', 'location = /healthz', 'location = /readyz']) {
      const block = config.slice(config.indexOf(`${location} {`));
      expect([location, /^[^}]*proxy_pass http:\/\/chat_backend;/.test(block)]).toEqual([location, true]);
    }
    expect(config).toMatch(/root \/usr\/share\/nginx\/html;/);
    expect(config).toMatch(/try_files \$uri \$uri\/ \/index\.html =404;/);
  });

  it('serves HTTPS in Compose with the mounted pair, and redirects plain HTTP', () => {
    expect(nginxEnv.NGINX_LISTEN).toBe('8443 ssl');
    expect(nginxEnv.NGINX_TLS).toMatch(/^ssl_certificate \/etc\/nginx\/tls\/tls\.crt; ssl_certificate_key \/etc\/nginx\/tls\/tls\.key;/);
    expect(service('nginx').volumes).toContain('./deploy/tls:/etc/nginx/tls:ro');
    expect(service('nginx').ports).toEqual(['127.0.0.1:8080:8080', '127.0.0.1:8443:8443']);
    expect(nginxEnv.NGINX_HTTP_REDIRECT).toContain('listen 8080;');
    expect(nginxEnv.NGINX_HTTP_REDIRECT).toContain('return 301 https://$host:8443$request_uri;');
    // The health check asks the plain port, which answers it itself.
    expect(JSON.stringify(service('nginx').healthcheck)).toContain('http://127.0.0.1:8080/nginx-healthz');
    // The included headers file is in the image where NGINX_CONF_DIR points; no key ever enters an image.
    expect(read('deploy/Dockerfile')).toContain(`COPY nginx/security-headers.conf ${nginxEnv.NGINX_CONF_DIR}/security-headers.conf`);
    expect(read('deploy/Dockerfile.dockerignore').split('\n')).toContain('deploy/tls');
    expect(read('.gitignore').split('\n')).toEqual(expect.arrayContaining(['deploy/tls/*.crt', 'deploy/tls/*.key']));
  });

  it('passes `nginx -t` as Compose renders it (the service name resolved to loopback for the check)', async () => {
    // `resolve` needs NGINX 1.27.3+ (the image); an older local NGINX checks everything else.
    const [, major, minor, patch] = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(spawnSync(findNginx(), ['-v'], { encoding: 'utf8' }).stderr)!.map(Number) as [number, number, number, number];
    const hasResolve = major > 1 || (major === 1 && (minor > 27 || (minor === 27 && patch >= 3)));
    // The image's paths, pointed at a copy of this checkout's headers file and a fresh self-signed pair,
    // mounted at /mnt for the check (which hides /tmp, where a checkout may be).
    const files = makeTempDir('chat-nginx-files-');
    try {
      mkdirSync(join(files, 'chat'));
      copyFileSync(join(REPO_ROOT, 'nginx/security-headers.conf'), join(files, 'chat/security-headers.conf'));
      execFileSync('bash', [join(REPO_ROOT, 'scripts/make-dev-certificate.sh'), join(files, 'tls')]);
      const config = renderTemplate(template, {
        ...nginxEnv,
        NGINX_CONF_DIR: '/mnt/chat',
        NGINX_TLS: nginxEnv.NGINX_TLS!.replaceAll('/etc/nginx/tls', '/mnt/tls'),
        NGINX_UPSTREAM_SERVERS: hasResolve ? nginxEnv.NGINX_UPSTREAM_SERVERS! : nginxEnv.NGINX_UPSTREAM_SERVERS!.replace(' resolve ', ' '),
      });
      await expect(checkNginxConfig(config, { resolveToLoopback: ['backend'], mountAtMnt: files })).resolves.toMatch(/test is successful/);
      // The check really resolves upstream names: without the mapping, the same config fails.
      await expect(checkNginxConfig(config, { resolveToLoopback: ['some-other-name'], mountAtMnt: files })).rejects.toThrow(
        /host not found in upstream "backend:3000"/,
      );
    } finally {
      removeDir(files);
    }
  });

  it('passes `nginx -t` as the local cluster renders it, with either balancing method', async () => {
    const dir = makeTempDir('chat-nginx-render-');
    try {
      for (const balance of ['ipHash', 'consistentHash'] as const) {
        const config = renderNginxConfig({
          listen: '127.0.0.1:8080',
          upstreams: ['127.0.0.1:3001', '127.0.0.1:3002', '127.0.0.1:3003'],
          webRoot: join(REPO_ROOT, 'apps/web/dist'),
          runtimeDir: dir,
          balance,
        });
        expect(config).toContain(balance === 'ipHash' ? 'ip_hash;' : 'hash $remote_addr consistent;');
        await expect(checkNginxConfig(config)).resolves.toMatch(/test is successful/);
      }
    } finally {
      removeDir(dir);
    }
  });
});
