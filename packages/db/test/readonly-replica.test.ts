// The replica handle is read-only at compile time: `pnpm typecheck` fails if a write through it compiles
// (each @ts-expect-error below must find an error). At run time this file only checks a read.
import type { Database } from '../src/index';

export function typeLevelChecks(db: Database): void {
  // @ts-expect-error writes do not compile on the replica
  db.replica.insertInto('users').values({ id: 'x', username: 'x', display_name: 'x', password_hash: 'x' });
  // @ts-expect-error writes do not compile on the replica
  db.replica.updateTable('rooms').set({ name: 'x' });
  // @ts-expect-error writes do not compile on the replica
  db.replica.deleteFrom('messages');
  // @ts-expect-error no schema changes either
  void db.replica.schema;
  // @ts-expect-error the Database owns the pools; the replica cannot be destroyed on its own
  void db.replica.destroy();
  // Reads compile.
  void db.replica.selectFrom('messages').select(['id', 'seq']).where('room_id', '=', 'r').execute();
  void db.replica.with('recent', (qb) => qb.selectFrom('messages').select('id')).selectFrom('recent').selectAll().execute();
}

it('is a type-level test (checked by tsc)', () => {
  expect(typeof typeLevelChecks).toBe('function');
});
