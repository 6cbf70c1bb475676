import { Module } from '@nestjs/common';
import { ConditionsModule } from '../conditions/conditions.module';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { SignalsModule } from '../signals/signals.module';
import { JourneysRepository } from './journeys.repository';
import { DirectoryTemplateNames, JourneysService, TemplateNames } from './journeys.service';

/** Journey files: validation, segments, simulation. The engine imports this module. */
@Module({
  imports: [ConditionsModule, SignalsModule],
  providers: [
    JourneysService,
    JourneysRepository,
    // Template names come from the templates directory itself, so `journeys validate --offline` needs no database.
    { provide: TemplateNames, inject: [CONFIG], useFactory: (config: Config) => new DirectoryTemplateNames(config.templatesDir) },
  ],
  exports: [JourneysService, JourneysRepository],
})
export class JourneysModule {}
