import { Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/scopes.decorator';
import { NotFound } from '../common/errors';
import { EngineReportsRepository } from './engine-reports.repository';
import { JourneyVersionsService } from './journey-versions.service';

@ApiTags('engine')
@ApiBearerAuth('apiKey')
@Controller('api/engine')
export class EngineController {
  constructor(
    private readonly reports: EngineReportsRepository,
    private readonly versions: JourneyVersionsService,
  ) {}

  @Get('journeys')
  @RequireScope('review')
  @ApiOperation({ summary: 'Stored journeys: status, current version, running enrollments' })
  journeys() {
    return this.reports.journeys();
  }

  @Get('journeys/:key/conversion')
  @RequireScope('review')
  @ApiOperation({ summary: 'Goal conversion of treated vs held-out entrants, overall and per split arm' })
  async conversion(@Param('key') key: string) {
    const all = await this.reports.journeys();
    if (!all.some((j) => j.key === key)) throw new NotFound(`journey "${key}" not found`);
    return { journey: key, ...(await this.reports.conversion(key)) };
  }

  @Get('enrollments/:id')
  @RequireScope('review')
  @ApiOperation({ summary: 'An enrollment with its full step history' })
  async enrollment(@Param('id') id: string) {
    const e = await this.reports.enrollment(id);
    if (!e) throw new NotFound(`enrollment ${id} not found`);
    return e;
  }

  @Post('reload')
  @RequireScope('author')
  @ApiOperation({ summary: 'Store the journey files as versions now (same as `touchline journeys reload` and SIGHUP)' })
  reload() {
    return this.versions.reload();
  }
}
