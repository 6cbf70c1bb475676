import { Controller, Get, Param, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/scopes.decorator';
import { NotFound } from '../common/errors';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-page';
import { ConsoleSessionGuard } from './console-session.guard';
import { EmailPreview } from './email-preview';
import { parseMessageFilter } from './messages-filter';
import { MessagesLogRepository } from './messages-log.repository';
import { messagePage, messagesPage } from './views/messages.view';
import { Inject } from '@nestjs/common';
import { CONFIG } from '../config/config.module';
import type { Config } from '../config/config';

/** The searchable message log and the message view with the re-rendered email. */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/messages')
export class ConsoleMessagesController {
  constructor(
    private readonly log: MessagesLogRepository,
    private readonly preview: EmailPreview,
    private readonly pages: ConsolePages,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get()
  async list(@Req() req: Request, @Res() res: Response, @Query() query: Record<string, unknown>) {
    const ctx = this.pages.context(req);
    const { filter, cursor, problems } = parseMessageFilter(query);
    const size = this.config.console.pageSize;
    const [rows, facets] = await Promise.all([this.log.page(filter, cursor, size + 1), this.log.facets()]);
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    const next = rows.length > size && last ? `${new Date(last.created_at).toISOString()}_${last.id}` : null;
    this.pages.send(res, ctx, messagesPage(ctx, { filter, rows: page, next, isFirst: !cursor, facets, problems }));
  }

  @Get(':id')
  async message(@Req() req: Request, @Res() res: Response, @Param('id') id: string) {
    const ctx = this.pages.context(req);
    const message = await this.log.detail(id);
    if (!message) throw new NotFound(`no message ${id}`);
    const [engagement, preview] = await Promise.all([this.log.engagement(message.id), this.preview.render(message)]);
    this.pages.send(res, ctx, messagePage(ctx, message, engagement, preview));
  }
}
