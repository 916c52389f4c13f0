import { defineConfig } from "drizzle-kit";

// Generates numbered, append-only SQL migrations from the schema:
// npx drizzle-kit generate --name=<what-changed>
export default defineConfig({
  dialect: "postgresql",
  schema: "./control-plane/db/schema.ts",
  out: "./control-plane/db/migrations",
});
