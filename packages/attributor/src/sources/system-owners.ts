import { isStillOwner, scanSync } from '@netwho/listeners';
import type { OwnerAnswer, OwnerQuery, OwnerSource, Protocol } from '../types';
import { answerFor } from './match';

/**
 * Answers from this machine's socket table through `@netwho/listeners`: one scan limited to the
 * ports asked about per batch (the process walk stops once their owners are found), and a cached
 * owner is verified with `isStillOwner` (on Linux one readlink of /proc/<pid>/fd/<fd>).
 *
 * The scan is synchronous (a few milliseconds); it runs from a timer, never inside a packet handler.
 */
export function systemOwners(): OwnerSource {
  return {
    async lookup(queries: readonly OwnerQuery[]): Promise<OwnerAnswer[]> {
      const protocols = new Set<Protocol>();
      const ports = new Set<number>();
      for (const q of queries) {
        protocols.add(q.protocol);
        ports.add(q.local.port);
      }
      const { listeners } = scanSync({ protocols: [...protocols], ports: [...ports] });
      return queries.map((q) => answerFor(q, listeners));
    },
    verify: (owner) => isStillOwner(owner),
  };
}
