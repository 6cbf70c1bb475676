import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLES = ['account_health', 'health_snapshots'] as const;

/**
 * account_health and health_snapshots keep referring only to existing accounts, checked once
 * per statement instead of once per row. A foreign key checks each inserted row on its own (a
 * query per row through the SPI): the recompute's first run of a day inserts 100,000 snapshots
 * (and 100,000 scores on the first run ever), and those checks were a second of CPU per table.
 * The same guarantee, set-based:
 * - after an INSERT, one statement-level check over the inserted rows (a transition table)
 *   finds each account by its key and locks it FOR KEY SHARE, as a foreign key check does, so
 *   an account cannot be deleted before the inserting transaction ends; a missing account
 *   fails the statement with foreign_key_violation (23503);
 * - a row's account_id cannot be changed (no code changes it; a foreign key would check it);
 * - deleting accounts deletes their rows (ON DELETE CASCADE), truncating accounts empties
 *   both tables (TRUNCATE … CASCADE did), and changing a referenced account's id is refused.
 * Races: an account deleted by a transaction still in flight makes the check wait for it and
 * then fail; rows inserted by a transaction in flight make the delete wait for it (the lock),
 * and the cascade, a statement of its own, then sees and deletes them.
 */
export class HealthSetBasedReferences1763920000400 implements MigrationInterface {
  name = 'HealthSetBasedReferences1763920000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION health_rows_check_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE missing bigint;
      BEGIN
        SELECT n.account_id INTO missing FROM inserted n
         WHERE n.account_id IS NULL
            OR NOT EXISTS (SELECT 1 FROM (SELECT a.id FROM accounts a WHERE a.id = n.account_id FOR KEY SHARE OF a) k)
         LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'insert into % refers to account % that does not exist', TG_TABLE_NAME, missing
            USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION health_rows_keep_account() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the account_id of a row of % cannot change (from % to %)', TG_TABLE_NAME, OLD.account_id, NEW.account_id
          USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
      END $$`);
    await q.query(`
      CREATE FUNCTION accounts_delete_health() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM account_health h USING deleted d WHERE h.account_id = d.id;
        DELETE FROM health_snapshots s USING deleted d WHERE s.account_id = d.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION accounts_truncate_health() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- DELETE, not TRUNCATE: the TRUNCATE that fired this may be truncating them too (in use).
        DELETE FROM account_health;
        DELETE FROM health_snapshots;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION accounts_keep_health_id() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM account_health WHERE account_id = OLD.id) OR EXISTS (SELECT 1 FROM health_snapshots WHERE account_id = OLD.id) THEN
          RAISE EXCEPTION 'account % has health rows: its id cannot change', OLD.id USING ERRCODE = 'foreign_key_violation', TABLE = 'accounts';
        END IF;
        RETURN NEW;
      END $$`);
    for (const t of TABLES) {
      await q.query(`ALTER TABLE ${t} DROP CONSTRAINT ${t}_account_id_fkey`);
      await q.query(`CREATE TRIGGER ${t}_check_accounts AFTER INSERT ON ${t} REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION health_rows_check_accounts()`);
      await q.query(`CREATE TRIGGER ${t}_keep_account BEFORE UPDATE ON ${t} FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id) EXECUTE FUNCTION health_rows_keep_account()`);
    }
    await q.query(`CREATE TRIGGER accounts_delete_health AFTER DELETE ON accounts REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION accounts_delete_health()`);
    await q.query(`CREATE TRIGGER accounts_truncate_health AFTER TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION accounts_truncate_health()`);
    await q.query(`CREATE TRIGGER accounts_keep_health_id BEFORE UPDATE ON accounts FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION accounts_keep_health_id()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER accounts_keep_health_id ON accounts`);
    await q.query(`DROP TRIGGER accounts_truncate_health ON accounts`);
    await q.query(`DROP TRIGGER accounts_delete_health ON accounts`);
    for (const t of TABLES) {
      await q.query(`DROP TRIGGER ${t}_keep_account ON ${t}`);
      await q.query(`DROP TRIGGER ${t}_check_accounts ON ${t}`);
      await q.query(`ALTER TABLE ${t} ADD CONSTRAINT ${t}_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE`);
    }
    await q.query(`DROP FUNCTION accounts_keep_health_id(), accounts_truncate_health(), accounts_delete_health(), health_rows_keep_account(), health_rows_check_accounts()`);
  }
}
