import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/scopes.decorator';
import { InvalidInput } from '../common/errors';
import { HealthService } from './health.service';

@ApiTags('health')
@ApiBearerAuth('apiKey')
@Controller('api')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Post('health/recompute')
  @HttpCode(200)
  @RequireScope('admin')
  @ApiOperation({ summary: 'Recompute every account’s health score now (set-based) and write today’s snapshots' })
  recompute() {
    return this.health.recompute({ wait: true });
  }

  @Get('health/model')
  @RequireScope('review')
  @ApiOperation({ summary: 'The health model in effect (from health.yaml)' })
  model() {
    return this.health.model();
  }

  @Get('accounts/:externalId/health')
  @RequireScope('review')
  @ApiQuery({ name: 'days', required: false, description: 'history window in days (1-730, default 90)' })
  @ApiOperation({ summary: 'An account’s current health with its components, daily history and trend' })
  account(@Param('externalId') externalId: string, @Query('days') days?: string) {
    return this.health.accountHealth(externalId, parseDays(days));
  }
}

function parseDays(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 90;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 730) throw new InvalidInput('invalid query', [{ path: 'days', message: `expected a whole number of days from 1 to 730 (got "${raw}")` }]);
  return n;
}
