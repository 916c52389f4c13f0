-- Run events are written a batch per statement and run, their varying
-- fields side by side in arrays, instead of a row per event: a claim of
-- 256 tasks writes one row of ASSIGNED events, not 256 (schema.ts,
-- runEventBatches). An event's number is its batch's sequence times
-- 10,000 plus its place in the batch; the view run_events shows one row
-- per event, as the table did.
--
-- Each stored event becomes a batch of one that keeps its sequence, so
-- the event numbered s is numbered s * 10,000 from now on, in the same
-- order. A watcher that resumes from a number it was given before the
-- upgrade is sent events it has seen again, and misses none.
CREATE TABLE "run_event_batches" (
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "run_event_batches_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	"task_ids" text[] NOT NULL,
	"states" text[] NOT NULL,
	"attempts" integer[] NOT NULL,
	"agent_ids" text[] NOT NULL,
	"errors" text[] NOT NULL,
	CONSTRAINT "run_event_batches_run_id_sequence_pk" PRIMARY KEY("run_id","sequence")
);
--> statement-breakpoint
INSERT INTO "run_event_batches" ("sequence", "run_id", "time", "task_ids",
	"states", "attempts", "agent_ids", "errors")
OVERRIDING SYSTEM VALUE
SELECT "sequence", "run_id", "time", ARRAY["task_id"], ARRAY["state"],
	ARRAY["attempt"], ARRAY["agent_id"], ARRAY["error"]
FROM "run_events";
--> statement-breakpoint
-- The next batch is numbered after the last event kept, and the sequence
-- counts as used, as the watch frontier reads it (event-frontier.ts).
SELECT setval('run_event_batches_sequence_seq', max("sequence"))
FROM "run_event_batches" HAVING count(*) > 0;
--> statement-breakpoint
DROP TABLE "run_events" CASCADE;
--> statement-breakpoint
CREATE VIEW "run_events" AS
SELECT b."sequence" AS "batch",
	b."sequence" * 10000 + e."place" - 1 AS "sequence",
	b."run_id", b."time", e."task_id", e."state", e."attempt", e."agent_id",
	e."error"
FROM "run_event_batches" b
CROSS JOIN LATERAL unnest(b."task_ids", b."states", b."attempts",
	b."agent_ids", b."errors")
	WITH ORDINALITY AS e("task_id", "state", "attempt", "agent_id", "error",
		"place");
