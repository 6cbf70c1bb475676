import { Controller, Get, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/scopes.decorator';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-page';
import { ConsoleSessionGuard } from './console-session.guard';
import { EmailPreview } from './email-preview';
import { previewPage } from './views/preview.view';

/** Authors' preview: every template in every locale, with validation problems. */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/preview')
export class ConsolePreviewController {
  constructor(
    private readonly preview: EmailPreview,
    private readonly pages: ConsolePages,
  ) {}

  @Get()
  page(@Req() req: Request, @Res() res: Response) {
    const ctx = this.pages.context(req);
    this.pages.send(res, ctx, previewPage(ctx, { available: this.preview.available(), problems: [], renders: [] }));
  }
}
