import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { SignalsModule } from '../signals/signals.module';
import { PreviewService } from './preview.service';
import { RenderContextBuilder } from './render-context.builder';
import { TemplatesController } from './templates.controller';
import { TemplatesRepository } from './templates.repository';
import { TemplatesService } from './templates.service';

/** Email content: MJML + Handlebars templates, render contexts, previews. */
@Module({
  imports: [AccountsModule, SignalsModule],
  controllers: [TemplatesController],
  providers: [TemplatesRepository, TemplatesService, RenderContextBuilder, PreviewService],
  exports: [TemplatesService, RenderContextBuilder, PreviewService],
})
export class TemplatesModule {}
