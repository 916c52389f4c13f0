import { asc, eq, sql } from "drizzle-orm";
import type { Clock } from "../../core/index.js";
import { type Db, secrets } from "../db/index.js";
import { decryptSecret, encryptSecret } from "./secret-cipher.js";
import type { SecretKey } from "./secret-key.js";

/** A stored secret's metadata; never its value. */
export interface SecretMetadata {
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The built-in store: values encrypted with the control plane's key in
 * the `secrets` table. Only {@link SecretStore.read} returns a value, and
 * only the dispatcher calls it.
 */
export class SecretStore {
  constructor(
    private readonly db: Db,
    private readonly key: SecretKey,
    private readonly clock: Clock,
  ) {}

  /** Creates or replaces a secret; created_at survives a replacement. */
  async put(name: string, value: string): Promise<SecretMetadata> {
    const now = new Date(this.clock.now());
    const ciphertext = encryptSecret(this.key, name, value);
    const [row] = await this.db
      .insert(secrets)
      .values({ name, ciphertext, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: secrets.name,
        set: { ciphertext, updatedAt: now },
      })
      .returning({
        name: secrets.name,
        createdAt: secrets.createdAt,
        updatedAt: secrets.updatedAt,
      });
    if (!row) throw new Error(`secret "${name}" was not stored`);
    return row;
  }

  /** Every secret's metadata, by name. */
  list(): Promise<SecretMetadata[]> {
    return this.db
      .select({
        name: secrets.name,
        createdAt: secrets.createdAt,
        updatedAt: secrets.updatedAt,
      })
      .from(secrets)
      .orderBy(asc(secrets.name));
  }

  /** Deletes a secret; false when there was none of that name. */
  async delete(name: string): Promise<boolean> {
    const removed = await this.db
      .delete(secrets)
      .where(eq(secrets.name, name))
      .returning({ name: secrets.name });
    return removed.length > 0;
  }

  /** The value of a secret, or undefined when there is none. */
  async read(name: string): Promise<string | undefined> {
    const [row] = await this.db
      .select({ ciphertext: secrets.ciphertext })
      .from(secrets)
      .where(eq(secrets.name, name));
    return row ? decryptSecret(this.key, name, row.ciphertext) : undefined;
  }

  /**
   * How many stored values were encrypted with another key: more than
   * none means replicas do not share their key, or the key was replaced.
   */
  async countOtherKeys(): Promise<number> {
    // The key id is the second ":" field of the stored form.
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(secrets)
      .where(sql`split_part(${secrets.ciphertext}, ':', 2) <> ${this.key.id}`);
    return Number(row?.count ?? 0);
  }
}
