import { Injectable } from '@nestjs/common';
import { parse } from 'csv-parse';
import * as fs from 'node:fs';
import { IngestionService } from '../ingestion/ingestion.service';
import { checkHeader, ImportKind, rowToMessages } from './csv-rows';

export interface ImportReport {
  rows: number;
  imported: number;
  /** Messages identical to an earlier import (a re-imported row changes nothing). */
  unchangedMessages: number;
  errors: { line: number; message: string }[];
  warnings: string[];
}

export type Progress = (bytesRead: number, totalBytes: number, rows: number) => void;

const CHUNK = 500;

/**
 * CSV import of accounts or contacts: streamed, validated row by row through the ingestion
 * path, valid rows kept, each bad row reported with its line number.
 */
@Injectable()
export class CsvImportService {
  constructor(private readonly ingestion: IngestionService) {}

  async importFile(kind: ImportKind, file: string, onProgress: Progress = () => {}): Promise<ImportReport> {
    const total = fs.statSync(file).size;
    const stream = fs.createReadStream(file);
    let bytes = 0;
    stream.on('data', (d) => (bytes += d.length));
    const parser = stream.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, relax_quotes: false }));
    const report: ImportReport = { rows: 0, imported: 0, unchangedMessages: 0, errors: [], warnings: [] };
    let fields: string[] | undefined;
    let width = 0;
    let pending: { line: number; messages: unknown[] }[] = [];
    const flush = async () => {
      if (!pending.length) return;
      const raws: unknown[] = [];
      const lineOf: number[] = [];
      const rowOf: number[] = [];
      pending.forEach((row, r) =>
        row.messages.forEach((m) => {
          raws.push(m);
          lineOf.push(row.line);
          rowOf.push(r);
        }),
      );
      const result = await this.ingestion.ingestMessages(raws, () => '', undefined, (i) => rowOf[i]);
      const badRows = new Set<number>();
      for (const rej of result.rejected) {
        badRows.add(rowOf[rej.index]);
        const field = rej.path.replace(/^traits\./, '').replace(/^\(root\)$/, '');
        report.errors.push({ line: lineOf[rej.index], message: field ? `${field}: ${rej.message}` : rej.message });
      }
      report.imported += pending.length - badRows.size;
      report.unchangedMessages += result.duplicates;
      pending = [];
      onProgress(bytes, total, report.rows);
    };
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (!fields) {
          const header = checkHeader(kind, record);
          if (header.problems.length) {
            report.errors.push(...header.problems.map((message) => ({ line: info.lines, message })));
            return report;
          }
          if (header.unknown.length) report.warnings.push(`columns kept as traits: ${header.unknown.join(', ')}`);
          fields = header.fields;
          width = record.length;
          continue;
        }
        report.rows++;
        if (record.length !== width) {
          report.errors.push({ line: info.lines, message: `expected ${width} columns, found ${record.length}` });
          continue;
        }
        pending.push({ line: info.lines, messages: rowToMessages(kind, fields, record) });
        if (pending.length >= CHUNK) await flush();
      }
      await flush();
    } catch (err) {
      const e = err as Error & { lines?: number };
      await flush();
      report.errors.push({ line: e.lines ?? 0, message: `the CSV cannot be read past this line: ${e.message}` });
    }
    if (!fields && !report.errors.length) report.errors.push({ line: 1, message: 'the file is empty: expected a header row' });
    report.errors.sort((a, b) => a.line - b.line);
    return report;
  }
}
