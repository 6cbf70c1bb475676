import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { fastParams } from './pg-params';

/** A query runner handed to repositories inside a transaction. */
export interface Tx {
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

/** A deadlock or serialization failure: the work can be run again. */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
  return !!code && RETRYABLE.has(code);
}

/**
 * Runs work in one transaction, retrying on deadlock or serialization failure (the work
 * must be idempotent up to its commit, which database work inside one transaction is).
 */
@Injectable()
export class Db {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async transaction<T>(work: (tx: Tx) => Promise<T>, attempts = 5): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ds.transaction((m: EntityManager) => work(managerTx(m)));
      } catch (err) {
        if (!isRetryable(err) || attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  }

  /** A single statement outside an explicit transaction. */
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.ds.query(sql, fastParams(params));
  }

  /**
   * A single statement outside an explicit transaction, prepared under `name` once per pooled
   * connection (parsed and planned once, then only bound and executed): for hot statements
   * of one fixed text. `name` must be unique to that text across the process.
   */
  async prepared<T = any>(name: string, sql: string, params: unknown[]): Promise<T[]> {
    const pool = (this.ds.driver as PostgresDriver).master as { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }> };
    return (await pool.query({ name, text: sql, values: fastParams(params)! })).rows;
  }
}

let savepoints = 0;

/**
 * Runs `work` inside a savepoint of `tx`: if it throws, only its own writes are undone and the
 * transaction goes on (the error is rethrown).
 */
export async function savepoint<T>(tx: Tx, work: () => Promise<T>): Promise<T> {
  const name = `sp_${++savepoints}`;
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const out = await work();
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return out;
  } catch (err) {
    // If even the rollback fails (the session is gone), the transaction cannot commit: the caller sees `err` either way.
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
    throw err;
  }
}

function managerTx(m: EntityManager): Tx {
  return { query: (sql, params) => m.query(sql, fastParams(params)) };
}
