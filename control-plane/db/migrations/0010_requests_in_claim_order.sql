-- A claim looks for the request it keeps resources for among the first
-- queued requests in claim order, not among any 100 of them.
DROP INDEX "tasks_queued_requesting";--> statement-breakpoint
CREATE INDEX "tasks_queued_requesting" ON "tasks" USING btree ("priority" DESC NULLS LAST,"queued_at","run_id","task_id") WHERE state = 'QUEUED' AND requests IS NOT NULL;