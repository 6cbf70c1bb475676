/** Columns that several console queries select under the same names. */

/** An account's identity and commercial fields (list rows and the account page's header). */
export interface AccountFields {
  id: string;
  external_id: string;
  name: string;
  phase: string;
  plan: string | null;
  mrr: string | null;
  renewal_date: string | null;
  csm_owner: string | null;
  high_touch: boolean;
}

/** A message's addressing and outcome (the message log and an account's messages). */
export interface MessageFields {
  id: string;
  to_email: string;
  journey_key: string | null;
  step_id: string | null;
  template: string;
  status: string;
  reason: string | null;
  subject: string | null;
}
