-- Each attempt shows what its lease allocated of the agent (GetRun).
ALTER TABLE "attempts" ADD COLUMN "resources" jsonb;