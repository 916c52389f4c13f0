-- Tasks keep their run_id without a foreign key: its check cost a lookup
-- and a lock on the run for every task inserted (schema.ts, tasks.runId).
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_run_id_runs_id_fk";
