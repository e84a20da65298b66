import { readFileSync } from 'node:fs';

/**
 * `pnpm admin <command>` (in the image: `node apps/server/dist/admin.js <command>`): the operators' command
 * line. It talks to a running node's operator API (features/ops/operator-api.ts), so what it does takes
 * effect on every node at once (sessions revoked, sockets dropped) exactly as the API does it, in embedded
 * and in cluster mode alike. Reads CHAT_URL (default http://127.0.0.1:$PORT, PORT 3000) and OPS_TOKEN.
 */
const USAGE = `usage: pnpm admin <command>

  create-admin <username>      make a user a site admin; a new user is created with the password read
                               from ADMIN_PASSWORD or, without it, the first line of standard input
  remove-admin <username>      take site admin away
  revoke-sessions <username>   sign the user out everywhere (tokens refused, sockets disconnected)
  disable <username>           disable the account (no sign-in) and revoke its sessions
  enable <username>            enable a disabled account
  drop-sockets [--cluster]     close every socket of the node (or of every node): clients reconnect

environment: CHAT_URL (default http://127.0.0.1:$PORT, PORT 3000), OPS_TOKEN (required)`;

class UsageError extends Error {}

interface Call {
  method: 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  describe: (status: number, answer: Record<string, unknown>) => string;
}

function readPassword(): string | undefined {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD;
  if (process.stdin.isTTY) return undefined;
  return readFileSync(0, 'utf8').split('\n')[0] || undefined;
}

function plan(args: string[]): Call {
  const [command, ...rest] = args;
  const username = () => {
    if (rest.length !== 1 || !rest[0]) throw new UsageError(`${command} takes one username`);
    return encodeURIComponent(rest[0]);
  };
  switch (command) {
    case 'create-admin': {
      const name = username();
      const password = readPassword();
      return {
        method: 'POST',
        path: '/ops/admins',
        body: { username: decodeURIComponent(name), ...(password === undefined ? {} : { password }) },
        describe: (status, a) => `${(a.user as { username: string }).username} is a site admin${status === 201 ? ' (new account)' : ''}`,
      };
    }
    case 'remove-admin': {
      const name = username();
      return { method: 'DELETE', path: `/ops/admins/${name}`, describe: () => `${decodeURIComponent(name)} is no longer a site admin` };
    }
    case 'revoke-sessions': {
      const name = username();
      return { method: 'POST', path: `/ops/users/${name}/revoke-sessions`, describe: (_s, a) => `revoked ${String(a.revoked)} session(s) of ${decodeURIComponent(name)}` };
    }
    case 'disable': {
      const name = username();
      return { method: 'POST', path: `/ops/users/${name}/disable`, describe: (_s, a) => `${decodeURIComponent(name)} is disabled; revoked ${String(a.revoked)} session(s)` };
    }
    case 'enable': {
      const name = username();
      return { method: 'POST', path: `/ops/users/${name}/enable`, describe: () => `${decodeURIComponent(name)} is enabled` };
    }
    case 'drop-sockets': {
      if (rest.some((a) => a !== '--cluster')) throw new UsageError('drop-sockets takes only --cluster');
      const scope = rest.includes('--cluster') ? 'cluster' : 'node';
      return {
        method: 'POST',
        path: '/ops/sockets/drop',
        body: { scope },
        describe: (_s, a) => `dropped ${String(a.dropped)} socket(s) on ${String(a.node)}${scope === 'cluster' ? '; every other node was told to drop its own' : ''}`,
      };
    }
    default:
      throw new UsageError(command ? `unknown command: ${command}` : 'no command');
  }
}

async function main(args: string[]): Promise<number> {
  let call: Call;
  try {
    call = plan(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`admin: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const token = process.env.OPS_TOKEN;
  if (!token) {
    console.error('admin: OPS_TOKEN is not set (the node must have the same OPS_TOKEN)');
    return 2;
  }
  const base = process.env.CHAT_URL ?? `http://127.0.0.1:${process.env.PORT ?? '3000'}`;
  const res = await fetch(new URL(call.path, base), {
    method: call.method,
    headers: { authorization: `Bearer ${token}`, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
  });
  const text = await res.text();
  const answer = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  if (!res.ok) {
    const error = answer.error as { code?: string; message?: string } | undefined;
    console.error(`admin: ${res.status} ${error?.code ?? ''} ${error?.message ?? text}`.trim());
    return 1;
  }
  console.log(call.describe(res.status, answer));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`admin: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
