DROP INDEX "tasks_queued";--> statement-breakpoint
CREATE INDEX "tasks_queued" ON "tasks" USING btree ("priority" DESC NULLS LAST,"queued_at","run_id","task_id") WHERE state = 'QUEUED';