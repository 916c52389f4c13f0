-- Run events are keyed by (run_id, sequence), the only order they are read
-- in: one index to write per event instead of two (schema.ts, runEvents).
ALTER TABLE "run_events" DROP CONSTRAINT "run_events_pkey";--> statement-breakpoint
DROP INDEX "run_events_run";--> statement-breakpoint
ALTER TABLE "run_events" ADD CONSTRAINT "run_events_run_id_sequence_pk" PRIMARY KEY("run_id","sequence");
