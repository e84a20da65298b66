import type { ParserOptions } from '@electric-sql/pglite';
import pg from 'pg';
import type { CustomTypesConfig } from 'pg';

// int8 (seq cursors, count(*), bigserial ids) and numeric (sum() of int8) come back from pg as strings
// by default, and from PGlite as numbers (int8) or strings (numeric). Both drivers parse them to JS
// numbers so the application sees one type whatever the mode. Safe here: counters stay far below 2^53.
const INT8_OID = 20;
const NUMERIC_OID = 1700;

function toNumber(value: string): number {
  return Number(value);
}

/** For `new pg.Pool({ types })`: per pool, never the process-wide `pg.types`. */
export const pgTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if ((oid === INT8_OID || oid === NUMERIC_OID) && format !== 'binary') return toNumber;
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as CustomTypesConfig['getTypeParser'],
};

/** For `new PGlite({ parsers })`. */
export const pgliteParsers: ParserOptions = {
  [INT8_OID]: toNumber,
  [NUMERIC_OID]: toNumber,
};
