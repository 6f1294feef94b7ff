import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { FleetError } from '../core/errors.ts';

/** One finished task as the journal keeps it. */
export interface TaskRecord {
  taskId: string;
  file: string;
  promptIndex: number;
  promptName: string;
  promptTemplate: string;
  prompt: string;
  ok: boolean;
  response?: string;
  model?: string;
  error?: string;
  worker?: string;
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
  /** Requests this task took (1, or parts + 1 for a chunked document) and attempts over all of them. */
  requests: number;
  attempts: number;
  /** Seconds: whole task, to the first token of its (last) request, and waiting in the fleet's queue. */
  latencyS: number;
  ttftS?: number;
  queuedS: number;
  notice?: string;
  /** ISO time the task finished. */
  timestamp: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  task_id TEXT PRIMARY KEY,
  ok INTEGER NOT NULL,
  finished_at TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at TEXT NOT NULL,
  elapsed_s REAL NOT NULL,
  tasks INTEGER NOT NULL
);`;

/** The job a journal belongs to: a hash, and the readable facts it was made from (for messages). */
export interface JobIdentity {
  id: string;
  facts: Record<string, unknown>;
}

/**
 * The batch's durable journal (SQLite, WAL): every finished task is committed the moment it
 * completes, so a crash loses at most the tasks in flight. `synchronous = FULL` makes each commit
 * survive a power cut too; at a few commits per second it costs nothing measurable.
 */
export class Journal {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #put: Database.Statement<[string, number, string, string]>;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
    this.#put = db.prepare(
      'INSERT INTO tasks (task_id, ok, finished_at, record) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT(task_id) DO UPDATE SET ok = excluded.ok, finished_at = excluded.finished_at, record = excluded.record',
    );
  }

  /**
   * Opens (or creates) the journal for `job`. A journal made for another job is refused with
   * FLEET_INPUT_INVALID saying what differs, unless `fresh`, which deletes it first.
   */
  static open(path: string, job: JobIdentity, opts: { fresh?: boolean } = {}): Journal {
    if (opts.fresh) Journal.remove(path);
    let db: Database.Database;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
    } catch (err) {
      throw new FleetError(
        'FLEET_INPUT_INVALID',
        `journal ${path}: cannot open: ${err instanceof Error ? err.message : String(err)} (pass --state FILE to put it elsewhere, or --fresh to start over)`,
        { cause: err },
      );
    }
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('job') as
      { value: string } | undefined;
    if (row === undefined) {
      const set = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
      set.run('job', job.id);
      set.run('facts', JSON.stringify(job.facts));
    } else if (row.value !== job.id) {
      const facts = db.prepare('SELECT value FROM meta WHERE key = ?').get('facts') as
        { value: string } | undefined;
      db.close();
      throw new FleetError(
        'FLEET_INPUT_INVALID',
        `journal ${path} belongs to a different job (${describeDiff(facts?.value, job.facts)}); ` +
          'its results are not mixed with this one. Pass --fresh to discard it, or -o/--state to keep both.',
      );
    }
    return new Journal(path, db);
  }

  /** Deletes a journal and its WAL files. */
  static remove(path: string): void {
    for (const p of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(p)) rmSync(p);
  }

  /** Commits one finished task (replacing an earlier failure of the same task). */
  record(r: TaskRecord): void {
    this.#put.run(r.taskId, r.ok ? 1 : 0, r.timestamp, JSON.stringify(r));
  }

  /**
   * Starts a run of the job (each invocation is one): its time and task count are kept with
   * `noteRun`, so the job's time over all its runs survives a crash (up to its last finished task).
   */
  startRun(startedAt: string): number {
    const info = this.#db
      .prepare('INSERT INTO runs (started_at, elapsed_s, tasks) VALUES (?, 0, 0)')
      .run(startedAt);
    return Number(info.lastInsertRowid);
  }

  /** Updates a run's elapsed seconds and the tasks it finished. */
  noteRun(run: number, elapsedS: number, tasks: number): void {
    this.#db.prepare('UPDATE runs SET elapsed_s = ?, tasks = ? WHERE run = ?').run(elapsedS, tasks, run);
  }

  /** Every run of the job so far (this one included): how many, their seconds and tasks summed. */
  runs(): { runs: number; elapsedS: number; tasks: number } {
    const row = this.#db
      .prepare(
        'SELECT count(*) AS n, coalesce(sum(elapsed_s), 0) AS s, coalesce(sum(tasks), 0) AS t FROM runs',
      )
      .get() as { n: number; s: number; t: number };
    return { runs: row.n, elapsedS: row.s, tasks: row.t };
  }

  /** Every task recorded, by task id. */
  all(): Map<string, TaskRecord> {
    const rows = this.#db.prepare('SELECT record FROM tasks').all() as Array<{ record: string }>;
    const out = new Map<string, TaskRecord>();
    for (const { record } of rows) {
      const r = JSON.parse(record) as TaskRecord;
      out.set(r.taskId, r);
    }
    return out;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function describeDiff(stored: string | undefined, now: Record<string, unknown>): string {
  if (stored === undefined) return 'made by another tool or version';
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(stored) as Record<string, unknown>;
  } catch {
    return 'unreadable job description';
  }
  const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])];
  const diff = keys.filter((k) => JSON.stringify(old[k]) !== JSON.stringify(now[k]));
  const show = (v: unknown) => {
    const s = JSON.stringify(v) ?? 'unset';
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  };
  if (diff.length === 0) return 'same settings, different version';
  return diff.map((k) => `${k}: journal has ${show(old[k])}, this run ${show(now[k])}`).join('; ');
}
