import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';

const POSTGRES_LIB_DIR = '/usr/lib/postgresql';

// The Debian package that provides each binary we spawn, so a missing binary fails with the fix in the message.
const INSTALL_HINTS: Record<string, string> = {
  initdb: 'apt-get install -y postgresql',
  postgres: 'apt-get install -y postgresql',
  pg_ctl: 'apt-get install -y postgresql',
  pg_basebackup: 'apt-get install -y postgresql',
  pg_isready: 'apt-get install -y postgresql',
  pg_dump: 'apt-get install -y postgresql',
  pg_restore: 'apt-get install -y postgresql',
  psql: 'apt-get install -y postgresql-client',
  'redis-server': 'apt-get install -y redis-server',
  nginx: 'apt-get install -y nginx',
  promtool: 'apt-get install -y prometheus',
  amtool: 'apt-get install -y prometheus-alertmanager',
};

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// Debian puts `pg_wrapper` links in /usr/bin (psql, pg_basebackup, …): a Perl dispatcher that picks a
// version from cluster configuration. We skip it so every PostgreSQL binary comes from one versioned bin dir.
function isDebianPgWrapper(path: string): boolean {
  try {
    return basename(realpathSync(path)) === 'pg_wrapper';
  } catch {
    return false;
  }
}

/** `/usr/lib/postgresql/<version>/bin`, newest version first. */
function postgresBinDirs(): string[] {
  let versions: string[];
  try {
    versions = readdirSync(POSTGRES_LIB_DIR);
  } catch {
    return [];
  }
  return versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(POSTGRES_LIB_DIR, v, 'bin'));
}

/**
 * Absolute path of an executable, from PATH first (a developer's own build wins), then the newest
 * `/usr/lib/postgresql/<version>/bin` (Debian keeps initdb and postgres off PATH).
 * Throws an Error that names the binary and how to install it.
 */
export function findBinary(name: string): string {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...pathDirs, ...postgresBinDirs()]) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate) && !isDebianPgWrapper(candidate)) return candidate;
  }
  const hint = INSTALL_HINTS[name] ?? `install the package that provides "${name}"`;
  throw new Error(
    `Binary "${name}" not found in PATH or ${POSTGRES_LIB_DIR}/*/bin. Install it, e.g.: ${hint}`,
  );
}
