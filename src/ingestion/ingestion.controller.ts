import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBasicAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/scopes.decorator';
import { ingestRoute } from './ingest-routes';
import { IngestionService } from './ingestion.service';
import { openApiSchemas } from './segment.openapi';

/**
 * Segment HTTP Tracking API: a Segment or RudderStack source can point here unchanged. The
 * plain form of these requests is served in front of Nest by ingestion-listener.ts (same
 * work through `ingestRoute`); this controller answers the rest and documents the routes.
 */
@ApiTags('ingestion')
@ApiBasicAuth('writeKey')
@RequireScope('ingest')
@Controller('v1')
export class IngestionController {
  constructor(private readonly ingestion: IngestionService) {}

  @Post('identify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create or update a contact (user) and its traits' })
  @ApiBody({ schema: openApiSchemas.identify })
  @ApiResponse({ status: 200, description: 'Committed' })
  identify(@Body() body: unknown) {
    return ingestRoute(this.ingestion, 'identify', body);
  }

  @Post('group')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create or update an account (group) and link the user to it' })
  @ApiBody({ schema: openApiSchemas.group })
  group(@Body() body: unknown) {
    return ingestRoute(this.ingestion, 'group', body);
  }

  @Post('track')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record a product usage event' })
  @ApiBody({ schema: openApiSchemas.track })
  track(@Body() body: unknown) {
    return ingestRoute(this.ingestion, 'track', body);
  }

  @Post(['batch', 'import'])
  @HttpCode(200)
  @ApiOperation({ summary: 'Several messages at once; valid ones are kept, each rejected one is reported' })
  @ApiBody({ schema: openApiSchemas.batch })
  batch(@Body() body: unknown) {
    return ingestRoute(this.ingestion, 'batch', body);
  }
}
