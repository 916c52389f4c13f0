-- Tasks made while a run runs (for_each children, dynamic output), so that
-- a bound on them can be checked without counting (task-groups.ts,
-- MAX_MADE_TASKS). Existing runs start from zero.
ALTER TABLE "runs" ADD COLUMN "made_tasks" integer DEFAULT 0 NOT NULL;