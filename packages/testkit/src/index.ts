export { findBinary } from './binaries';
export { freePort, onFreePort } from './free-port';
export { spawnService, runCommand, waitForService, tailFile, childPids, waitForPidsToExit } from './process';
export type { ServiceProcess, SpawnServiceOptions, ExitStatus } from './process';
export { waitUntil } from './wait-until';
export { withPgClient } from './pg-client';
export { makeTempDir, removeDir } from './temp-dir';
export type { WaitOptions } from './wait-until';
export { startPostgres } from './postgres';
export type { PostgresCluster, StartPostgresOptions } from './postgres';
export { waitForReplicaCatchUp, pauseReplay, resumeReplay } from './replication';
export type { ReplicaPair } from './replication';
export { createTestDatabase } from './test-database';
export type { TestDatabase, PostgresUrls } from './test-database';
export { startRedis } from './redis';
export { startS3Server } from './s3';
export type { S3Server } from './s3';
export type { RedisServer } from './redis';
export { testServices, TEST_ENV } from './test-services';
export type { TestServices } from './test-services';
export {
  startNginx,
  renderNginxConfig,
  renderTemplate,
  templatePlaceholders,
  nginxTemplateVars,
  upstreamServers,
  checkNginxConfig,
  findNginx,
  nginxWorkersFor,
  NGINX_TEMPLATE_PATH,
  UPSTREAM_SERVER_PARAMS,
  UPSTREAM_BALANCE,
  NGINX_DEFAULT_LIMITS,
  REPO_ROOT,
} from './nginx';
export type {
  NginxServer,
  NginxConfigOptions,
  NginxTemplateVars,
  StartNginxOptions,
  CheckNginxConfigOptions,
  UpstreamBalance,
} from './nginx';
export { spawnNode } from './node-process';
export type { NodeProcess, StandaloneNode, SpawnNodeOptions } from './node-process';
export { startCluster, describeClusterLogs } from './cluster';
export { ensureServerBuild, SERVER_ENTRY, SERVER_NODE_FLAGS } from './server-build';
export type { Cluster, ClusterNode, ClusterPostgres, StartClusterOptions } from './cluster';
