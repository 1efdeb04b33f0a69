import type { NctId } from '../ctgov/nctId.js';
import type { RawRecord } from '../ctgov/rawRecord.js';
import type { StudyToWrite } from '../studies/store.js';

/**
 * One study as fetched. A full observation was validated and normalized and carries its content
 * hash; a quick one skipped all that, because before the transaction its raw record matched the
 * stored `raw_hash` (so it is unchanged); writeBatch checks that again under the study's lock.
 */
export type Observation = FullObservation | QuickObservation;

export interface FullObservation extends StudyToWrite {
  kind: 'full';
  nctId: NctId;
}

export interface QuickObservation {
  kind: 'quick';
  nctId: NctId;
  /** The record as received: taken in full after all if the stored raw hash moved meanwhile. */
  record: RawRecord;
  /** rawRecordHash of the raw record, equal to the stored one when it was read. */
  rawHash: string;
}
