import { Controller, Get, Param, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/scopes.decorator';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { CONSOLE_HEADERS, ConsolePages } from './console-page';
import { ConsoleSessionGuard } from './console-session.guard';
import { ConsoleAccountsService } from './console-accounts.service';
import { accountsPage } from './views/accounts.view';
import { accountPage } from './views/account.view';

/** Accounts list, CSV export and the account page (session-protected; API keys do not apply). */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console')
export class ConsoleAccountsController {
  constructor(
    private readonly accounts: ConsoleAccountsService,
    private readonly pages: ConsolePages,
  ) {}

  @Get('accounts')
  async list(@Req() req: Request, @Res() res: Response, @Query() query: Record<string, unknown>) {
    const ctx = this.pages.context(req);
    this.pages.send(res, ctx, accountsPage(ctx, await this.accounts.accounts(query)));
  }

  @Get('accounts.csv')
  async csv(@Res() res: Response, @Query() query: Record<string, unknown>) {
    for (const [k, v] of Object.entries(CONSOLE_HEADERS)) res.setHeader(k, v);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="accounts.csv"`);
    // Respect back-pressure: wait for the socket to drain before fetching the next batch.
    try {
      await this.accounts.exportCsv(query, (chunk) => new Promise<void>((resolve) => (res.write(chunk) ? resolve() : res.once('drain', resolve))));
      res.end();
    } catch (err) {
      // Headers are gone: cut the download so it is visibly incomplete, never silently short.
      res.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  @Get('accounts/:externalId')
  async account(@Req() req: Request, @Res() res: Response, @Param('externalId') externalId: string, @Query('days') days?: string) {
    const ctx = this.pages.context(req);
    this.pages.send(res, ctx, accountPage(ctx, await this.accounts.account(externalId, days)));
  }
}
