-- A run's deadline (created_at + its definition's timeout) as a column, so
-- the sweep finds overdue runs by index instead of reading every
-- unfinished run's definition twice a second (time-out-runs.ts). Runs
-- already unfinished get theirs from their definitions; a timeout past
-- what a timestamp holds (longer ones are now refused) counts as ten years.
ALTER TABLE "runs" ADD COLUMN "deadline_at" timestamp with time zone;--> statement-breakpoint
UPDATE "runs" SET "deadline_at" = "created_at"
  + make_interval(secs => least(("definition"->>'timeout')::float8, 315576000))
  WHERE "state" IN ('PENDING', 'RUNNING')
    AND jsonb_typeof("definition"->'timeout') = 'number';--> statement-breakpoint
CREATE INDEX "runs_deadline" ON "runs" USING btree ("deadline_at") WHERE deadline_at IS NOT NULL AND state IN ('PENDING', 'RUNNING');
