import { type HistoryQueries, isHistoryError } from '@netwho/history';
import type { Context, Hono } from 'hono';

const BY = new Set(['program', 'unit', 'container', 'user']);

/**
 * The History page's API, over a history store (README: "History API"). Every route takes
 * `from` and `to` (ms since 1970; default the last hour) and `program` (a name, path or file name);
 * a range the store refuses is a 400 with its reason, a file it cannot read a 503.
 */
export function historyRoutes(app: Hono, history: HistoryQueries | undefined): void {
  const answer = (c: Context, run: (q: { from: number; to: number; program?: string }) => unknown) => {
    if (!history)
      return c.json({ error: 'history is off (netwho web --no-history, or no history file)' }, 404);
    const now = Date.now();
    const num = (name: string, fallback: number) => {
      const v = c.req.query(name);
      return v === undefined || v === '' ? fallback : Number(v);
    };
    const program = c.req.query('program');
    const range = { from: num('from', now - 3_600_000), to: num('to', now), ...(program && { program }) };
    try {
      return c.json(run(range));
    } catch (error) {
      if (isHistoryError(error, 'E_INVALID_ARGUMENT')) return c.json({ error: error.message }, 400);
      if (isHistoryError(error)) return c.json({ error: error.message }, 503);
      throw error;
    }
  };
  const limit = (c: Context) => Math.min(1000, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
  app.get('/api/history/programs', (c) => {
    const by = c.req.query('by') ?? 'program';
    if (!BY.has(by)) return c.json({ error: `by is program, unit, container or user, not '${by}'` }, 400);
    return answer(c, (q) => history!.programs({ ...q, by: by as 'program', limit: limit(c) }));
  });
  app.get('/api/history/series', (c) =>
    answer(c, (q) =>
      history!.series({ ...q, top: Math.min(20, Math.max(1, Number(c.req.query('top') ?? 8) || 8)) }),
    ),
  );
  app.get('/api/history/hosts', (c) => answer(c, (q) => history!.hosts({ ...q, limit: limit(c) })));
  app.get('/api/history/connections', (c) =>
    answer(c, (q) => history!.connections({ ...q, limit: limit(c) })),
  );
  app.get('/api/history/info', (c) => answer(c, () => history!.info()));
}
