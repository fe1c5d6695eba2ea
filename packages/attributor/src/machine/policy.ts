/** How the state machine waits, retries and forgets. Times in milliseconds. */
export interface AttributionPolicy {
  /**
   * Delays before each retry of a lookup that found no owner yet (the socket may not be visible yet,
   * or its owner was between fds). After the last one the port is `unknown`. Default
   * [25, 100, 400, 1500]: about 2 s in all, the first retry while a short connection still lives.
   */
  retryDelays: readonly number[];
  /** A known owner is looked up again after this long, even if it still verifies. Default 60 s. */
  knownTtl: number;
  /** An unknown port is not looked up again for this long (new flows on it are labelled unknown at once). Default 3 s. */
  unknownHold: number;
  /**
   * How often the owner of every known port that still has flows is verified (one readlink each on
   * Linux). A port whose owner closed it and another program bound it (UDP keeps one flow across
   * that) is looked up again and its flows move to the new program. Default 1 s.
   */
  revalidateEvery: number;
}

export const defaultPolicy: AttributionPolicy = {
  retryDelays: [25, 100, 400, 1500],
  knownTtl: 60_000,
  unknownHold: 3_000,
  revalidateEvery: 1_000,
};
