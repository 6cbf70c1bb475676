import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public, RequireScope } from '../auth/scopes.decorator';
import { OpsService } from './ops.service';
import { registry } from './metrics';

@ApiTags('operations')
@Controller()
export class OpsController {
  constructor(private readonly ops: OpsService) {}

  @Get('healthz')
  @Public()
  @ApiOperation({ summary: 'Liveness and database reachability' })
  async healthz(@Res() res: Response) {
    const health = await this.ops.health();
    res.status(health.ok ? 200 : 503).json(health);
  }

  @Get('metrics')
  @RequireScope('admin')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (admin scope)' })
  async metrics(@Res() res: Response) {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  }
}
