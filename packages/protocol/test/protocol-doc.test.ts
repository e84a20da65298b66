import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLIENT_EVENTS, ERROR_CODES, HTTP_ROUTES, LIMITS, SERVER_EVENTS } from '@chat/protocol';

// docs/PROTOCOL.md is the contract in prose, @chat/protocol the same contract in code: a name on one side
// only fails here, whichever side it is on.

const doc = readFileSync(path.join(__dirname, '../../../docs/PROTOCOL.md'), 'utf8');

/** The lines of the section under `heading` (a whole heading line), up to the next heading of any level. */
function section(heading: string): string[] {
  const lines = doc.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`docs/PROTOCOL.md has no heading ${heading}`);
  const end = lines.findIndex((line, i) => i > start && /^#{1,6} /.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The backticked names in the first cell of each table row (header and separator rows left out). */
function firstCellNames(lines: string[]): string[] {
  const rows = lines.filter((l) => l.startsWith('|') && !/^\|[-\s|]+\|$/.test(l));
  return rows.slice(1).flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

describe('docs/PROTOCOL.md and @chat/protocol name the same things', () => {
  test('client → server events', () => {
    expect(sorted(firstCellNames(section('### Client → server')))).toEqual(sorted(CLIENT_EVENTS));
  });

  test('server → client events', () => {
    expect(sorted(firstCellNames(section('### Server → client')))).toEqual(sorted(SERVER_EVENTS));
  });

  test('error codes', () => {
    expect(sorted(firstCellNames(section('## Errors')))).toEqual(sorted(ERROR_CODES));
  });

  test('HTTP routes', () => {
    const documented = ['### Accounts', '### Rooms', '### Moderation', '### Operations'].flatMap((h) =>
      firstCellNames(section(h)).map((route) => route.split('?')[0]!),
    );
    expect(sorted(documented)).toEqual(sorted(Object.values(HTTP_ROUTES).map((r) => `${r.method} ${r.path}`)));
  });

  test('REST budget classes and their numbers', () => {
    const rows = section('### REST budgets')
      .filter((l) => l.startsWith('|') && !/^\|[-\s|]+\|$/.test(l))
      .slice(1)
      .map((row) => row.split('|').slice(1, -1).map((cell) => cell.trim()));
    const number = (cell: string) => (cell === '—' ? undefined : Number(cell.replace(/,/g, '')));
    const documented = Object.fromEntries(rows.map(([cls, , user, address]) => [cls!.replace(/`/g, ''), { user: number(user!), address: number(address!) }]));
    expect(Object.keys(documented).sort()).toEqual(sorted(Object.values(HTTP_ROUTES).map((r) => r.budget)));
    for (const [cls, limits] of Object.entries(LIMITS.httpRequestsPerMinute)) {
      expect([cls, documented[cls]]).toEqual([cls, { user: 'user' in limits ? limits.user : undefined, address: limits.address }]);
    }
    expect(documented.ops).toEqual({ user: undefined, address: undefined });
  });
});
