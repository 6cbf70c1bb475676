import { Controller, Get, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/scopes.decorator';
import { JourneysService } from '../journeys/journeys.service';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-page';
import { ConsoleSessionGuard } from './console-session.guard';
import { EmailPreview } from './email-preview';
import type { DiagramStep } from './journey-diagram';
import { previewPage } from './views/preview.view';

/** Authors' preview: every template in every locale (sample or a real contact's data), journey diagrams, validation problems. */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/preview')
export class ConsolePreviewController {
  constructor(
    private readonly preview: EmailPreview,
    private readonly journeys: JourneysService,
    private readonly pages: ConsolePages,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response, @Query('contact') contactParam?: string) {
    const ctx = this.pages.context(req);
    const contact = typeof contactParam === 'string' && contactParam.trim() ? contactParam.trim().slice(0, 200) : undefined;
    const [templates, journeys] = await Promise.all([this.preview.all(contact), this.journeys.validate()]);
    // A contact that does not exist fails every render the same way: say it once.
    const contactError = contact && templates.renders.length && templates.renders.every((r) => r.error) ? templates.renders[0].error : undefined;
    this.pages.send(
      res,
      ctx,
      previewPage(ctx, {
        contact,
        contactError,
        templateProblems: templates.problems,
        journeyProblems: journeys.problems.map((p) => ({ path: `${p.file}:${p.line}:${p.col}`, message: `${p.message} (at ${p.path})` })),
        renders: contactError ? [] : templates.renders,
        journeys: journeys.journeys.map((j) => ({ key: j.key, name: j.name, steps: j.steps as unknown as DiagramStep[] })),
      }),
    );
  }
}
