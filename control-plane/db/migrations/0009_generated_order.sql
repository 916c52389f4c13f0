-- A dynamic task's generated tasks are listed in the order it made them.
ALTER TABLE "tasks" ADD COLUMN "generated_order" integer[] DEFAULT '{}' NOT NULL;