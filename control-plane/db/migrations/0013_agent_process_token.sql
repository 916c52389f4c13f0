-- The process token of the agent process that made the session: a hello
-- from the same process, or from the one that found it dead on its state
-- dir, ends the attempts it does not list at once (register-agent.ts).
ALTER TABLE "agents" ADD COLUMN "process_token" text;