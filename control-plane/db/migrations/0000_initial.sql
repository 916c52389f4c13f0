CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"labels" jsonb NOT NULL,
	"detected_labels" jsonb NOT NULL,
	"resources" jsonb NOT NULL,
	"slots" integer NOT NULL,
	"task_types" jsonb NOT NULL,
	"version" text DEFAULT '' NOT NULL,
	"state" text NOT NULL,
	"cordoned" boolean DEFAULT false NOT NULL,
	"session_id" text,
	"replica_id" text,
	"connected_at" timestamp with time zone,
	"last_heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "attempts" (
	"run_id" uuid NOT NULL,
	"task_id" text NOT NULL,
	"number" integer NOT NULL,
	"lease_id" uuid NOT NULL,
	"fencing_token" bigint NOT NULL,
	"agent_id" text NOT NULL,
	"outcome" text,
	"exit_code" integer,
	"error" text DEFAULT '' NOT NULL,
	"retry_class" text,
	"output" jsonb,
	"assigned_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "attempts_run_id_task_id_number_pk" PRIMARY KEY("run_id","task_id","number")
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"task_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"agent_id" text NOT NULL,
	"fencing_token" bigint NOT NULL,
	"state" text NOT NULL,
	"ttl_ms" integer NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ack_deadline_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"released_at" timestamp with time zone,
	"stopped_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "replicas" (
	"id" text PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_events" (
	"sequence" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "run_events_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	"task_id" text DEFAULT '' NOT NULL,
	"state" text NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"agent_id" text DEFAULT '' NOT NULL,
	"error" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workflow_name" text NOT NULL,
	"workflow_version" integer DEFAULT 0 NOT NULL,
	"definition" jsonb NOT NULL,
	"params" jsonb NOT NULL,
	"state" text NOT NULL,
	"error" text DEFAULT '' NOT NULL,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"ciphertext" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_logs" (
	"run_id" uuid NOT NULL,
	"task_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"sequence" bigint NOT NULL,
	"time" timestamp with time zone NOT NULL,
	"stream" text NOT NULL,
	"level" text DEFAULT '' NOT NULL,
	"message" text NOT NULL,
	"fields" jsonb,
	CONSTRAINT "task_logs_run_id_task_id_attempt_sequence_pk" PRIMARY KEY("run_id","task_id","attempt","sequence")
);
--> statement-breakpoint
CREATE TABLE "task_metrics" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "task_metrics_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"task_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"value" double precision NOT NULL,
	"labels" jsonb NOT NULL,
	"time" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"run_id" uuid NOT NULL,
	"task_id" text NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"type" text NOT NULL,
	"state" text NOT NULL,
	"depends_on" text[] NOT NULL,
	"spec" jsonb NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"node_selector" jsonb NOT NULL,
	"max_attempts" integer DEFAULT 1 NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"fencing_token" bigint DEFAULT 0 NOT NULL,
	"output" jsonb,
	"exit_code" integer,
	"error" text DEFAULT '' NOT NULL,
	"agent_id" text,
	"not_before" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"queued_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "tasks_run_id_task_id_pk" PRIMARY KEY("run_id","task_id")
);
--> statement-breakpoint
CREATE TABLE "workflows" (
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"digest" text NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workflows_name_version_pk" PRIMARY KEY("name","version")
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "attempts_lease_id" ON "attempts" USING btree ("lease_id");--> statement-breakpoint
CREATE INDEX "leases_held_by_agent" ON "leases" USING btree ("agent_id") WHERE state IN ('GRANTED', 'ACTIVE');--> statement-breakpoint
CREATE INDEX "leases_expiry" ON "leases" USING btree ("expires_at") WHERE state IN ('GRANTED', 'ACTIVE');--> statement-breakpoint
CREATE INDEX "leases_revoked_running" ON "leases" USING btree ("run_id","task_id") WHERE state = 'REVOKED' AND stopped_at IS NULL;--> statement-breakpoint
CREATE INDEX "run_events_run" ON "run_events" USING btree ("run_id","sequence");--> statement-breakpoint
CREATE UNIQUE INDEX "runs_idempotency_key" ON "runs" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "runs_created_at" ON "runs" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "task_metrics_task" ON "task_metrics" USING btree ("run_id","task_id");--> statement-breakpoint
CREATE INDEX "tasks_queued" ON "tasks" USING btree ("priority" DESC NULLS LAST,"queued_at") WHERE state = 'QUEUED';--> statement-breakpoint
CREATE INDEX "tasks_waiting" ON "tasks" USING btree ("not_before") WHERE state = 'RETRY';