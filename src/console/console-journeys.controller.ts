import { Controller, Get, Param, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/scopes.decorator';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-page';
import { ConsoleSessionGuard } from './console-session.guard';
import { ConsoleJourneysService } from './console-journeys.service';
import { journeyPage, journeysPage } from './views/journeys.view';

@ApiExcludeController()
@Public()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/journeys')
export class ConsoleJourneysController {
  constructor(
    private readonly journeys: ConsoleJourneysService,
    private readonly pages: ConsolePages,
  ) {}

  @Get()
  async list(@Req() req: Request, @Res() res: Response) {
    const ctx = this.pages.context(req);
    const [rows, asOf] = await Promise.all([this.journeys.list(), this.journeys.asOf()]);
    this.pages.send(res, ctx, journeysPage(ctx, rows, asOf));
  }

  @Get(':key')
  async journey(@Req() req: Request, @Res() res: Response, @Param('key') key: string) {
    const ctx = this.pages.context(req);
    this.pages.send(res, ctx, journeyPage(ctx, await this.journeys.journey(key)));
  }
}
