import type { ResultRow } from '../scenario';

/** A row as measured, with the correctness problems seen while measuring it (reported apart from the table). */
export interface MeasuredRow extends ResultRow {
  failures: string[];
}
