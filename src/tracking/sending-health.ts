/**
 * The complaint-rate guard's arithmetic. Mailbox providers act on complaint rates around
 * 0.3% (Gmail's bulk-sender limit; SES reviews accounts near 0.1–0.5%), so marketing mail
 * pauses itself before a provider blocks all of it. Small volumes are not judged: one
 * complaint in ten sends says nothing.
 */
export interface ComplaintFigures {
  complaints: number;
  sent: number;
}

export interface ComplaintJudgement extends ComplaintFigures {
  rate: number;
  threshold: number;
  minSent: number;
  windowDays: number;
  breached: boolean;
  judged: boolean;
}

export const COMPLAINT_WINDOW_DAYS = 7;

export function judgeComplaintRate(f: ComplaintFigures, threshold: number, minSent: number): ComplaintJudgement {
  const rate = f.sent > 0 ? f.complaints / f.sent : 0;
  const judged = f.sent >= minSent;
  return { ...f, rate, threshold, minSent, windowDays: COMPLAINT_WINDOW_DAYS, judged, breached: judged && rate > threshold };
}
