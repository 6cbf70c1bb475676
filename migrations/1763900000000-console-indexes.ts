import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes the console's queries need to stay fast at 100,000 accounts: keyset paging of
 * accounts by name, "no usage since day D" per account, the latest human engagement per
 * account, the message log's default order and recipient search, and the hand-off inbox.
 */
export class ConsoleIndexes1763900000000 implements MigrationInterface {
  name = 'ConsoleIndexes1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX accounts_name_idx ON accounts (name, id)`);
    // One probe per account answers "used since D?" and "last used": the primary key leads
    // with the event name, which would make both scan every row of the account.
    await q.query(`CREATE INDEX event_rollups_account_day_idx ON event_rollups (account_id, day)`);
    await q.query(`CREATE INDEX engagement_human_idx ON engagement_events (account_id, occurred_at DESC)
                     WHERE kind IN ('open','click','survey') AND NOT machine`);
    await q.query(`CREATE INDEX messages_created_idx ON messages (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX messages_email_idx ON messages (lower(to_email), created_at DESC)`);
    await q.query(`CREATE INDEX messages_template_idx ON messages (template, created_at DESC)`);
    await q.query(`CREATE INDEX handoffs_status_idx ON handoffs (status, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX handoffs_status_idx, messages_template_idx, messages_email_idx, messages_created_idx,
                   engagement_human_idx, event_rollups_account_day_idx, accounts_name_idx`);
  }
}
