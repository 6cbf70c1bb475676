import type { EngagementItem, HandoffItem, MessageItem, SurveyItem, UsageDay } from './account-detail.repository';

/**
 * One timeline for an account, newest first: a usage summary per day, every message,
 * engagement (machine opens/clicks flagged), survey answers, hand-offs and journey events.
 * Pure: the repository fetches each kind; this merges and orders them.
 */
export type TimelineItem =
  | { kind: 'usage'; at: string; sortAt: number; usage: UsageDay }
  | { kind: 'message'; at: Date; sortAt: number; message: MessageItem }
  | { kind: 'engagement'; at: Date; sortAt: number; engagement: EngagementItem }
  | { kind: 'survey'; at: Date; sortAt: number; survey: SurveyItem }
  | { kind: 'handoff'; at: Date; sortAt: number; handoff: HandoffItem }
  | { kind: 'enrollment'; at: Date; sortAt: number; enrollment: JourneyEvent };

export interface JourneyEvent {
  journey_key: string;
  event: string;
  step_id: string | null;
  contact_name: string | null;
  detail: string | null;
}

export interface TimelineParts {
  usage: UsageDay[];
  messages: MessageItem[];
  engagement: EngagementItem[];
  handoffs: HandoffItem[];
  surveys?: SurveyItem[];
  journeys?: { at: Date; event: JourneyEvent }[];
}

const ms = (d: Date | string) => (d instanceof Date ? d.getTime() : new Date(d).getTime());

export function buildTimeline(parts: TimelineParts, limit: number): { items: TimelineItem[]; truncated: boolean } {
  const items: TimelineItem[] = [];
  // A day's usage sorts at the end of that day, after what happened during it.
  for (const u of parts.usage) items.push({ kind: 'usage', at: u.day, sortAt: ms(`${u.day}T23:59:59.999Z`), usage: u });
  for (const m of parts.messages) items.push({ kind: 'message', at: m.at, sortAt: ms(m.at), message: m });
  for (const e of parts.engagement) items.push({ kind: 'engagement', at: e.at, sortAt: ms(e.at), engagement: e });
  for (const s of parts.surveys ?? []) items.push({ kind: 'survey', at: s.at, sortAt: ms(s.at), survey: s });
  for (const h of parts.handoffs) items.push({ kind: 'handoff', at: h.at, sortAt: ms(h.at), handoff: h });
  for (const j of parts.journeys ?? []) items.push({ kind: 'enrollment', at: j.at, sortAt: ms(j.at), enrollment: j.event });
  items.sort((a, b) => b.sortAt - a.sortAt);
  return { items: items.slice(0, limit), truncated: items.length > limit };
}
