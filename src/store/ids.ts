// Row ids: ULIDs (sortable by time, unique across replicas).
import { randomFillSync } from "node:crypto";
import { monotonicFactory } from "ulid";

// ulid's default generator asks the OS for one random byte per character (16 calls per id);
// a mass rebuild makes tens of thousands of ids, so the bytes are drawn in bulk instead.
const pool = new Uint8Array(4096);
let next = pool.length;

function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return (pool[next++] as number) / 256;
}

/** A new ULID; ids made within one millisecond still sort in the order they were made. */
export const newId: () => string = monotonicFactory(pooledRandom);
