import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export interface ConversionGroup {
  entered: number;
  converted: number;
  active: number;
  /** converted / entered, 0..1 (null when nobody entered). */
  rate: number | null;
}

export interface ArmConversion extends ConversionGroup {
  step: string;
  arm: string;
  holdout: boolean;
}

function group(entered: number, converted: number, active: number): ConversionGroup {
  return { entered, converted, active, rate: entered ? Math.round((converted / entered) * 10000) / 10000 : null };
}

/** Read models of the engine: conversion of treated vs held-out (per journey and split arm), enrollments with history. */
@Injectable()
export class EngineReportsRepository {
  constructor(private readonly db: Db) {}

  async conversion(journeyKey: string): Promise<{ treated: ConversionGroup; holdout: ConversionGroup; arms: ArmConversion[] }> {
    const rows = await this.db.query(
      `SELECT holdout, count(*)::int AS entered, count(*) FILTER (WHERE status = 'converted')::int AS converted,
              count(*) FILTER (WHERE status = 'active')::int AS active
         FROM enrollments WHERE journey_key = $1 GROUP BY holdout`,
      [journeyKey],
    );
    const pick = (h: boolean) => rows.find((r: any) => r.holdout === h) ?? { entered: 0, converted: 0, active: 0 };
    const arms = await this.db.query(
      `SELECT a.key AS step, a.value AS arm, e.holdout, count(*)::int AS entered,
              count(*) FILTER (WHERE e.status = 'converted')::int AS converted, count(*) FILTER (WHERE e.status = 'active')::int AS active
         FROM enrollments e CROSS JOIN LATERAL jsonb_each_text(e.arms) a
        WHERE e.journey_key = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [journeyKey],
    );
    return {
      treated: group(pick(false).entered, pick(false).converted, pick(false).active),
      holdout: group(pick(true).entered, pick(true).converted, pick(true).active),
      arms: arms.map((r: any) => ({ step: r.step, arm: r.arm, holdout: r.holdout, ...group(r.entered, r.converted, r.active) })),
    };
  }

  async journeys(): Promise<any[]> {
    return this.db.query(
      `SELECT j.key, j.name, j.status, v.version, v.content_hash, j.source, j.next_fire_at, j.archived_reason,
              (SELECT count(*)::int FROM enrollments e WHERE e.journey_key = j.key AND e.status = 'active') AS active_enrollments
         FROM journeys j LEFT JOIN journey_versions v ON v.id = j.current_version_id ORDER BY j.key`,
    );
  }

  async enrollment(id: string): Promise<{ enrollment: any; history: any[] } | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const [e] = await this.db.query(
      `SELECT e.id, e.journey_key, v.version, e.subject_type, e.subject_id, e.account_id, e.contact_id, e.status, e.step_id,
              e.entered_at, e.step_started_at, e.due_at, e.holdout, e.arms, e.attempts, e.last_error, e.ended_at, e.end_reason
         FROM enrollments e JOIN journey_versions v ON v.id = e.version_id WHERE e.id = $1`,
      [id],
    );
    if (!e) return undefined;
    const history = await this.db.query(`SELECT step_id, outcome, reason, at FROM enrollment_history WHERE enrollment_id = $1 ORDER BY id`, [id]);
    return { enrollment: e, history };
  }
}
