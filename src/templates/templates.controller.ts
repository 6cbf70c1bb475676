import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/scopes.decorator';
import { InvalidInput } from '../common/errors';
import { PreviewService } from './preview.service';
import { TemplatesService } from './templates.service';

const LOCALE = /^[a-z]{2}(-[A-Za-z0-9]+)?$/;

@ApiTags('templates')
@ApiBearerAuth('apiKey')
@RequireScope('author')
@Controller()
export class TemplatesController {
  constructor(
    private readonly previews: PreviewService,
    private readonly templates: TemplatesService,
  ) {}

  @Get('preview/templates/:name')
  @Header('content-type', 'text/html; charset=utf-8')
  @ApiProduces('text/html')
  @ApiOperation({ summary: 'The rendered HTML of a template, with a real contact\'s data or sample data' })
  @ApiQuery({ name: 'locale', required: false, example: 'ja' })
  @ApiQuery({ name: 'contact', required: false, description: 'external id of a contact; sample data when absent' })
  async preview(@Param('name') name: string, @Query('locale') locale?: string, @Query('contact') contact?: string): Promise<string> {
    if (locale !== undefined && !LOCALE.test(locale)) throw new InvalidInput('invalid locale', [{ path: 'locale', message: `expected a locale such as ja or en (got "${locale}")` }]);
    return (await this.previews.preview({ name, locale, contact: contact || undefined })).html;
  }

  @Get('api/templates')
  @ApiOperation({ summary: 'Template names with their locales, category and variables' })
  async list() {
    const out = [];
    for (const name of await this.templates.names()) {
      try {
        out.push(await this.templates.info(name));
      } catch (err) {
        out.push({ name, error: (err as Error).message });
      }
    }
    return out;
  }
}
