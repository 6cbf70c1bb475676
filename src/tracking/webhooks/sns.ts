import { Injectable } from '@nestjs/common';
import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { z } from 'zod';

/**
 * Amazon SNS message signatures (what SES bounce and complaint notifications arrive in).
 * The string to sign is the message's fields in a fixed order, `Name\nValue\n` each;
 * SignatureVersion 1 signs it with SHA1withRSA, 2 with SHA256withRSA, using the key of the
 * certificate at SigningCertURL, which must be an https URL on an sns.<region>.amazonaws.com
 * host (AWS's own advice), or anyone could sign with a certificate of their own.
 */
export const snsEnvelopeSchema = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1),
  TopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, 'expected an SNS topic ARN'),
  Subject: z.string().optional(),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.enum(['1', '2'], { message: 'expected "1" or "2"' }),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
  SubscribeURL: z.string().optional(),
  Token: z.string().optional(),
  UnsubscribeURL: z.string().optional(),
});
export type SnsEnvelope = z.infer<typeof snsEnvelopeSchema>;

/** True for https://sns.<region>.amazonaws.com[.cn]/… (certificates and subscribe URLs). */
export function isSnsUrl(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(u.hostname) && (u.port === '' || u.port === '443') && !u.username && !u.password;
  } catch {
    return false;
  }
}

export function snsStringToSign(m: SnsEnvelope): string {
  const keys =
    m.Type === 'Notification'
      ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const)
      : (['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const);
  let out = '';
  for (const k of keys) {
    const v = m[k];
    if (v === undefined) continue; // Subject is optional and left out when absent
    out += `${k}\n${v}\n`;
  }
  return out;
}

/** Verifies the signature with a PEM certificate; false on any failure, expired certificates included. */
export function verifySnsSignature(m: SnsEnvelope, certPem: string, now: Date): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return false;
    const algorithm = m.SignatureVersion === '2' ? 'RSA-SHA256' : 'RSA-SHA1';
    return verifySignature(algorithm, Buffer.from(snsStringToSign(m), 'utf8'), cert.publicKey, Buffer.from(m.Signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The network side of SNS, injectable so tests use a locally generated certificate. The
 * service checks every URL with isSnsUrl before calling these.
 */
export abstract class SnsHttp {
  abstract fetchCertificate(url: string): Promise<string>;
  abstract confirmSubscription(subscribeUrl: string): Promise<void>;
}

@Injectable()
export class FetchSnsHttp extends SnsHttp {
  /** Certificates rarely change; a cache keeps each notification to no outbound request. */
  private readonly certs = new Map<string, string>();

  async fetchCertificate(url: string): Promise<string> {
    const cached = this.certs.get(url);
    if (cached) return cached;
    const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`certificate fetch: HTTP ${res.status}`);
    const pem = await res.text();
    if (!pem.includes('BEGIN CERTIFICATE') || pem.length > 20_000) throw new Error('certificate fetch: not a PEM certificate');
    if (this.certs.size > 50) this.certs.clear();
    this.certs.set(url, pem);
    return pem;
  }

  async confirmSubscription(subscribeUrl: string): Promise<void> {
    const res = await fetch(subscribeUrl, { redirect: 'error', signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`subscription confirmation: HTTP ${res.status}`);
  }
}
