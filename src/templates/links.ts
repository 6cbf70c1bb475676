/**
 * Every link in an email goes through a LinkBuilder, one instance per rendered message.
 * Templates reach it through helpers: {{track url "label"}}, {{unsubscribe}}, {{preferences}},
 * {{survey "nps" 9}}, {{openPixel}}. The tracking issue implements the signed builder
 * (redirects with HMAC tokens); previews and tests use PreviewLinkBuilder.
 *
 * Contract: each method returns an absolute URL (not HTML-escaped: Handlebars escapes it in
 * the HTML part); it is called once per distinct link and render, may be called for the HTML
 * and the text part alike, and must be cheap (tens of thousands of renders a second).
 */
export interface LinkBuilder {
  /** A click-tracked link to `url`; `label` names the link in reports (e.g. "cta"). */
  track(url: string, label?: string): string;
  /** One-click unsubscribe from marketing mail (the compliance footer links here). */
  unsubscribe(): string;
  /** The recipient's email preferences page. */
  preferences(): string;
  /** Records a survey answer with one click. */
  survey(kind: 'nps' | 'csat', score: number): string;
  /** The URL of a 1×1 open-tracking image. */
  openPixel(): string;
}

/** Plain, unsigned URLs for previews: targets are left as written, the rest point at `base`. */
export class PreviewLinkBuilder implements LinkBuilder {
  constructor(
    private readonly base = 'https://touchline.example/preview',
    private readonly recipient = 'preview',
  ) {}

  track(url: string): string {
    return url;
  }

  unsubscribe(): string {
    return `${this.base}/unsubscribe?r=${encodeURIComponent(this.recipient)}`;
  }

  preferences(): string {
    return `${this.base}/preferences?r=${encodeURIComponent(this.recipient)}`;
  }

  survey(kind: 'nps' | 'csat', score: number): string {
    return `${this.base}/survey/${kind}/${score}?r=${encodeURIComponent(this.recipient)}`;
  }

  openPixel(): string {
    return `${this.base}/open.gif`;
  }
}
