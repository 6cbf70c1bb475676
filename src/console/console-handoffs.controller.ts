import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/scopes.decorator';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-page';
import { ConsoleRequest, ConsoleSessionGuard } from './console-session.guard';
import { ConsoleHandoffsService } from './console-handoffs.service';
import { handoffsPage } from './views/handoffs.view';

/** Where to go back after an action: only the inbox itself. */
function backTo(back: unknown): string {
  const ok = typeof back === 'string' && /^\/console\/handoffs(\?|$)/.test(back) ? back : '/console/handoffs';
  return ok.replace(/[?&]done=1(?=&|$)/, '').replace(/^\/console\/handoffs&/, '/console/handoffs?');
}

/** The CSM inbox: list, then assign / acknowledge / close through CSRF-protected POST forms. */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/handoffs')
export class ConsoleHandoffsController {
  constructor(
    private readonly handoffs: ConsoleHandoffsService,
    private readonly pages: ConsolePages,
  ) {}

  @Get()
  async inbox(@Req() req: Request, @Res() res: Response, @Query() query: Record<string, unknown>) {
    const ctx = this.pages.context(req);
    const data = await this.handoffs.inbox(query);
    this.pages.send(res, ctx, handoffsPage(ctx, { ...data, flash: query.done === '1' ? ctx.t('handoffs.done') : undefined }));
  }

  @Post(':id')
  async act(@Req() req: ConsoleRequest, @Res() res: Response, @Param('id') id: string, @Body() body: Record<string, unknown>) {
    await this.handoffs.act(id, body, req.consoleSession?.name ?? '');
    const back = backTo(body.back);
    // Post/redirect/get: a reload does not repeat the action.
    res.redirect(303, `${back}${back.includes('?') ? '&' : '?'}done=1#handoff-${id}`);
  }
}
