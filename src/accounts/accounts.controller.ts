import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/scopes.decorator';
import { AccountsService } from './accounts.service';

@ApiTags('accounts')
@ApiBearerAuth('apiKey')
@RequireScope('review')
@Controller('api')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Get('accounts/:externalId')
  @ApiOperation({ summary: 'An account with its contacts and usage signals' })
  account(@Param('externalId') externalId: string) {
    return this.accounts.accountDetail(externalId);
  }

  @Get('contacts/:externalId')
  @ApiOperation({ summary: 'A contact with its usage signals' })
  contact(@Param('externalId') externalId: string) {
    return this.accounts.contactDetail(externalId);
  }
}
