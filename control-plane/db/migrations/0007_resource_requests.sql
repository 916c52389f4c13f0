-- Resources are matched (SPEC §5): a task's request in base units, parsed
-- when its run starts, and what each lease was allocated. Tasks queued
-- before this migration have no request stored and are matched as before.
ALTER TABLE "leases" ADD COLUMN "resources" jsonb;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "requests" jsonb;--> statement-breakpoint
CREATE INDEX "leases_allocated" ON "leases" USING btree ("agent_id") WHERE resources IS NOT NULL AND state IN ('GRANTED', 'ACTIVE', 'REVOKED') AND stopped_at IS NULL;--> statement-breakpoint
CREATE INDEX "tasks_queued_requesting" ON "tasks" USING btree ("run_id") WHERE state = 'QUEUED' AND requests IS NOT NULL;