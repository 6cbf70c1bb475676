import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

@Injectable()
export class OpsRepository {
  constructor(private readonly db: Db) {}

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
