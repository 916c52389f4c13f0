ALTER TABLE "runs" ADD COLUMN "concurrency" integer;--> statement-breakpoint
UPDATE "runs" SET "concurrency" = ("definition"->>'concurrency')::int WHERE "definition" ? 'concurrency';--> statement-breakpoint
CREATE INDEX "tasks_created" ON "tasks" USING btree ("run_id") WHERE state = 'CREATED';
