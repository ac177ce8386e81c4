// Pure helpers of the bulk work and process views (no imports: test/bulk.test.mjs compiles this
// file alone): the process table's filter and sort, and a batch command's state.

export interface ProcessLike {
  pid?: number;
  name?: string;
  user?: string;
  cmdline?: string;
  cpu_percent?: number;
  rss_bytes?: number;
  memory_bytes?: number;
}

export type ProcessSort = 'cpu' | 'memory' | 'name' | 'pid';

export const processMemory = (p: ProcessLike): number => (p.rss_bytes ?? p.memory_bytes ?? 0);

/** The processes matching `q` (name, user, command line or pid, any case), sorted by `key`. */
export function sortProcesses<T extends ProcessLike>(rows: T[], key: ProcessSort, desc: boolean,
                                                     q: string): T[] {
  const needle = q.trim().toLowerCase();
  const hit = (p: T) => !needle || [p.name, p.user, p.cmdline, p.pid].some(
    (v) => v != null && String(v).toLowerCase().includes(needle));
  const cmp = (a: T, b: T): number => {
    switch (key) {
      case 'cpu': return (a.cpu_percent ?? 0) - (b.cpu_percent ?? 0);
      case 'memory': return processMemory(a) - processMemory(b);
      case 'pid': return (a.pid ?? 0) - (b.pid ?? 0);
      default: return String(a.name ?? '').localeCompare(String(b.name ?? ''));
    }
  };
  const out = rows.filter(hit).sort(cmp);
  return desc ? out.reverse() : out;
}

const OPEN = new Set(['unknown', 'issued', 'pending', 'queued', 'received', 'started', 'running']);

/** The four states a technician follows a batch by: queued, running, done (exit 0), failed. */
export function batchState(c: { status: string; exit_code: number | null }):
    'queued' | 'running' | 'done' | 'failed' {
  if (OPEN.has(c.status)) return c.status === 'queued' || c.status === 'issued' ? 'queued' : 'running';
  return c.status === 'completed' && (c.exit_code ?? 0) === 0 ? 'done' : 'failed';
}
